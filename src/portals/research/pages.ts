import { DATA_CATEGORY_CODES } from '../../kit/fhir/profiles/gf-codes.ts';
import type { PermitView, QueryReleaseView } from '../../secondary-use/contract.ts';
import { categoryName } from '../citizen/vocabulary.ts';
import type { ResearcherIdentity } from '../ports.ts';
import { type Html, html } from '../ui/html.ts';
import { formatDate, type Lang, translator } from '../ui/i18n.ts';
import { banner, type NavItem, page } from '../ui/layout.ts';

// The researcher's pages (secondary use): her organisation's permits, an application form, and
// for a permit whose workspace is ready a SQL box whose answer shows only the released cells,
// with how many cells were suppressed said out loud. Raw rows never reach this page: the HDAB
// answers with disclosure-checked aggregates only.

export const RESEARCH_BASE = '/research';

export interface ResearchFrame {
  lang: Lang;
  path: string;
  assetBase: string;
  user?: { identity: ResearcherIdentity; csrf: string };
  flash?: { kind: 'ok' | 'error'; text: string };
}

/** Resource types a permit can ask for (mirrors the HDAB's application check, which decides). */
const TYPES = ['Patient', 'Condition', 'MedicationStatement', 'MedicationRequest', 'Observation', 'Procedure', 'AllergyIntolerance', 'Encounter'];
const CATEGORIES = ['Patient', 'Condition', 'MedicationUse', 'MedicationRequest', 'ObservationLaboratory', 'ObservationVitalSigns', 'Procedure', 'AllergyIntolerance', 'Encounter'].filter((c) => DATA_CATEGORY_CODES.has(c));

function frame(f: ResearchFrame, title: string, main: Html): string {
  const t = translator(f.lang);
  const nav: NavItem[] | undefined = f.user
    ? [
        { href: `${RESEARCH_BASE}/permits`, label: t('res.nav.permits'), current: f.path === `${RESEARCH_BASE}/permits` },
        { href: `${RESEARCH_BASE}/apply`, label: t('res.nav.apply'), current: f.path === `${RESEARCH_BASE}/apply` },
      ]
    : undefined;
  const who = f.user ? `${f.user.identity.name}${f.user.identity.organizationName ? ` (${f.user.identity.organizationName})` : ''}` : '';
  return page({
    lang: f.lang,
    portal: t('res.title'),
    home: `${RESEARCH_BASE}/`,
    title,
    assetBase: f.assetBase,
    path: f.path,
    nav,
    user: f.user ? { name: who, logoutAction: `${RESEARCH_BASE}/logout`, csrf: f.user.csrf } : undefined,
    main: html`${f.flash ? banner(f.flash.kind, f.flash.text) : ''}${main}`,
  });
}

export function researchLoginPage(f: ResearchFrame, error?: string): string {
  const t = translator(f.lang);
  return frame(f, t('common.login'), html`<h1>${t('res.title')}</h1><p class="lead">${t('res.login.intro')}</p>${error ? banner('error', error) : ''}<p><a class="button" href="${RESEARCH_BASE}/login">${t('res.login.button')}</a></p>`);
}

export function researchPermitsPage(f: ResearchFrame, permits: PermitView[] | string): string {
  const t = translator(f.lang);
  const body =
    typeof permits === 'string'
      ? banner('error', t('res.failed'), [], permits)
      : permits.length === 0
        ? html`<p>${t('res.permits.none')}</p>`
        : html`<div class="table-wrap"><table><thead><tr><th scope="col">${t('op.permit.applied')}</th><th scope="col">${t('op.permit.purpose')}</th><th scope="col">${t('op.col.status')}</th><th scope="col">${t('op.permit.workspace')}</th></tr></thead><tbody>${permits.map(
            (p) => html`<tr><td><time datetime="${p.appliedAt}">${formatDate(p.appliedAt, f.lang, true)}</time></td><td><a href="${RESEARCH_BASE}/permits/${p.id}">${p.application.purpose}</a></td><td data-permit-status="${p.status}">${t(`op.permit.status.${p.status}`)}${p.decisionReason ? html` — ${p.decisionReason}` : ''}</td><td>${t(`op.permit.ws.${p.workspace}`)}</td></tr>`,
          )}</tbody></table></div>`;
  return frame(f, t('res.nav.permits'), html`<h1>${t('res.nav.permits')}</h1>${body}`);
}

export function researchApplyPage(f: ResearchFrame): string {
  const t = translator(f.lang);
  const csrf = f.user?.csrf ?? '';
  const checks = (name: string, values: string[], label: (v: string) => string) =>
    values.map((v) => html`<div class="choice"><input type="checkbox" id="${name}-${v}" name="${name}" value="${v}"><label for="${name}-${v}">${label(v)}</label></div>`);
  const year = new Date().getUTCFullYear();
  return frame(
    f,
    t('res.nav.apply'),
    html`<h1>${t('res.nav.apply')}</h1><p class="lead">${t('res.apply.intro')}</p>
<form method="post" action="${RESEARCH_BASE}/apply"><input type="hidden" name="csrf" value="${csrf}">
<label for="purpose">${t('op.permit.purpose')}</label><textarea id="purpose" name="purpose" required maxlength="2000"></textarea>
<label for="legalBasis">${t('op.permit.legalBasis')}</label><input type="text" id="legalBasis" name="legalBasis" required maxlength="500">
<fieldset><legend>${t('op.permit.categories')}</legend>${checks('categories', CATEGORIES, (c) => categoryName(c, f.lang))}</fieldset>
<fieldset><legend>${t('op.permit.fields')}</legend>${checks('types', TYPES, (x) => x)}</fieldset>
<fieldset><legend>${t('op.permit.cohort')}</legend>
<label for="conditions">${t('res.apply.conditions')}</label><input type="text" id="conditions" name="conditions" pattern="[0-9, ]*">
<label for="medications">${t('res.apply.medications')}</label><input type="text" id="medications" name="medications" pattern="[A-Z0-9, ]*">
<label for="ageMin">${t('res.apply.ageMin')}</label><input type="number" id="ageMin" name="ageMin" min="0" max="130">
<label for="ageMax">${t('res.apply.ageMax')}</label><input type="number" id="ageMax" name="ageMax" min="0" max="130"></fieldset>
<label for="periodStart">${t('res.apply.periodStart')}</label><input type="date" id="periodStart" name="periodStart" required value="${year}-01-01">
<label for="periodEnd">${t('res.apply.periodEnd')}</label><input type="date" id="periodEnd" name="periodEnd" required value="${year + 1}-01-01">
<label for="datePrecision">${t('op.permit.precision')}</label><select id="datePrecision" name="datePrecision"><option value="year">${t('op.permit.precision.year')}</option><option value="month">${t('op.permit.precision.month')}</option></select>
<div><button type="submit">${t('res.apply.submit')}</button></div></form>`,
  );
}

function releaseTable(f: ResearchFrame, release: QueryReleaseView): Html {
  const t = translator(f.lang);
  const dims = [...new Set(release.released.flatMap((c) => Object.keys(c.dims)))];
  const suppressed = release.suppressed
    ? banner('warn', t('res.query.suppressed', { count: String(release.suppressed), min: String(release.minCell) }))
    : html`<p class="muted" data-suppressed="0">${t('res.query.noneSuppressed', { min: String(release.minCell) })}</p>`;
  const table = release.released.length
    ? html`<div class="table-wrap"><table data-release><thead><tr>${dims.map((d) => html`<th scope="col">${d}</th>`)}<th scope="col">n</th></tr></thead><tbody>${release.released.map(
        (c) => html`<tr>${dims.map((d) => html`<td>${String(c.dims[d] ?? '')}</td>`)}<td data-n>${String(c.n)}</td></tr>`,
      )}</tbody></table></div>`
    : html`<p>${t('res.query.nothingReleased')}</p>`;
  return html`<section aria-labelledby="result" data-suppressed-count="${String(release.suppressed)}"><h2 id="result">${t('res.query.result')}</h2>${table}${suppressed}</section>`;
}

export function researchPermitPage(f: ResearchFrame, permit: PermitView | string, query?: { sql: string; result?: QueryReleaseView; error?: string }): string {
  const t = translator(f.lang);
  if (typeof permit === 'string') return frame(f, t('res.nav.permits'), html`<h1>${t('res.nav.permits')}</h1>${banner('error', t('res.failed'), [], permit)}`);
  const a = permit.application;
  const csrf = f.user?.csrf ?? '';
  const workspace =
    permit.status !== 'granted'
      ? html`<p>${t('res.permit.notGranted')}</p>`
      : permit.workspace !== 'ready'
        ? html`<p data-workspace="${permit.workspace}">${t('op.permit.workspace')}: ${t(`op.permit.ws.${permit.workspace}`)}</p>`
        : html`<section aria-labelledby="sql-title"><h2 id="sql-title">${t('res.query.title')}</h2><p>${t('res.query.intro', { min: String(a.minCell) })}</p>
<form method="post" action="${RESEARCH_BASE}/permits/${permit.id}/query"><input type="hidden" name="csrf" value="${csrf}">
<label for="sql">SQL</label><textarea id="sql" name="sql" required maxlength="20000" rows="6" class="mono">${query?.sql ?? ''}</textarea>
<div><button type="submit">${t('res.query.run')}</button></div></form>
${query?.error ? banner('error', t('res.query.refused'), [], query.error) : ''}${query?.result ? releaseTable(f, query.result) : ''}</section>`;
  return frame(
    f,
    a.purpose,
    html`<p><a href="${RESEARCH_BASE}/permits">← ${t('res.nav.permits')}</a></p><h1>${a.purpose}</h1>
<p><span data-permit-status="${permit.status}">${t(`op.permit.status.${permit.status}`)}</span>${permit.decisionReason ? html` — ${permit.decisionReason}` : ''}</p>
<p class="muted">${t('op.permit.categories')}: ${a.categories.map((c) => categoryName(c, f.lang)).join(', ')} · ${t('op.permit.period')}: ${formatDate(a.periodStart, f.lang)} – ${formatDate(a.periodEnd, f.lang)}</p>${workspace}`,
  );
}
