import { type Html, html } from '../ui/html.ts';
import type { ClinicalGroup } from '../../node/contract.ts';
import { formatDate, type Lang, type MessageKey, translator } from '../ui/i18n.ts';
import { banner, page } from '../ui/layout.ts';
import { problemText } from '../ui/source-problems.ts';
import type { ClinicianIdentity, ExchangeOption } from '../ports.ts';
import type { OverviewItem, OverviewModel, SectionNote } from './overview-model.ts';

// The clinician viewer's pages: plain server-rendered HTML, no client framework, so the overview
// is on screen as soon as the data has arrived.

export interface ViewerFrame {
  lang: Lang;
  basePath: string;
  path: string;
  user?: { identity: ClinicianIdentity; csrf: string };
  /** The handovers page of this viewer (notified pull), when it has one. */
  handoversPath?: string;
  /** The "patient from abroad" search (cross-border, foreign-pages.ts), when the node offers it. */
  foreignPath?: string;
}

export function frame(f: ViewerFrame, title: string, main: Html): string {
  const t = translator(f.lang);
  return page({
    lang: f.lang,
    portal: t('clin.title'),
    home: `${f.basePath}/`,
    title,
    assetBase: `${f.basePath}/assets`,
    path: f.path,
    // Handovers sent to her organisation are not found by searching a patient: one link away.
    nav:
      f.user && (f.handoversPath || f.foreignPath)
        ? [
            { href: `${f.basePath}/search`, label: t('clin.searchTitle') },
            ...(f.foreignPath ? [{ href: f.foreignPath, label: t('clin.foreign.nav') }] : []),
            ...(f.handoversPath ? [{ href: f.handoversPath, label: t('clin.handovers') }] : []),
          ]
        : undefined,
    user: f.user
      ? {
          // Who, in which role, for which organisation: the role decides what she may see.
          name: [f.user.identity.name, f.user.identity.roleName, f.user.identity.organizationName].filter(Boolean).join(', '),
          logoutAction: `${f.basePath}/logout`,
          csrf: f.user.csrf,
        }
      : undefined,
    main,
  });
}

export function loginPage(f: ViewerFrame, error?: string): string {
  const t = translator(f.lang);
  return frame(
    f,
    t('common.login'),
    html`<h1>${t('clin.title')}</h1>
${error ? banner('error', error) : ''}
<p class="lead">${t('clin.loginIntro')}</p>
<p><a class="button" href="${f.basePath}/login">${t('clin.loginButton')}</a></p>`,
  );
}

export interface SearchState {
  bsn?: string;
  exchange?: string;
  bsnError?: string;
  formError?: string;
}

function exchangeName(x: ExchangeOption, lang: Lang): string {
  return x.name[lang] ?? x.name.nl;
}

export function searchForm(f: ViewerFrame, exchanges: ExchangeOption[], state: SearchState = {}): Html {
  const t = translator(f.lang);
  const csrf = f.user?.csrf ?? '';
  return html`<form method="post" action="${f.basePath}/overview" novalidate>
<input type="hidden" name="csrf" value="${csrf}">
<label for="bsn">${t('clin.bsn')}</label>
<span class="hint" id="bsn-hint">${t('clin.bsnHint')}</span>
${state.bsnError ? html`<p class="field-error" id="bsn-error">${state.bsnError}</p>` : ''}
<input type="text" id="bsn" name="bsn" inputmode="numeric" autocomplete="off" maxlength="9" pattern="[0-9]{9}" required
 data-bsn data-invalid-message="${t('clin.bsnInvalid')}" value="${state.bsn ?? ''}"
 aria-describedby="bsn-hint${state.bsnError ? ' bsn-error' : ''}"${state.bsnError ? html` aria-invalid="true"` : ''}>
<label for="exchange">${t('clin.exchange')}</label>
<select id="exchange" name="exchange">
${exchanges.map((x) => html`<option value="${x.code}"${x.code === state.exchange ? html` selected` : ''}>${exchangeName(x, f.lang)}</option>`)}
</select>
<div><button type="submit">${t('clin.search')}</button></div>
</form>`;
}

export function searchPage(f: ViewerFrame, exchanges: ExchangeOption[], state: SearchState = {}): string {
  const t = translator(f.lang);
  return frame(
    f,
    t('clin.searchTitle'),
    html`<h1>${t('clin.searchTitle')}</h1>${state.formError ? banner('error', state.formError) : ''}${searchForm(f, exchanges, state)}`,
  );
}

function itemRow(item: OverviewItem, lang: Lang): Html {
  const t = translator(lang);
  return html`<tr>
<td>${item.highRisk ? html`<span class="tag tag-danger">${t('clin.criticality.high')}</span> ` : ''}${item.patientReported ? html`<span class="tag tag-warn">${t('common.patientReported')}</span> ` : ''}${item.label}</td>
<td>${item.details.join(' · ')}</td>
<td>${item.date ? html`<time datetime="${item.date}">${formatDate(item.date, lang)}</time>` : t('common.unknown')}</td>
<td class="sources">${item.sources.length ? item.sources.join(', ') : t('common.unknown')}</td>
</tr>`;
}

/** "*****0010": enough to check against the wristband, not the whole number on screen. */
export function maskedBsn(bsn: string): string {
  return `${'*'.repeat(Math.max(0, bsn.length - 4))}${bsn.slice(-4)}`;
}

/** Whole years between a birth date (YYYY, YYYY-MM or YYYY-MM-DD) and `now`; undefined when unreadable. */
export function ageOn(birthDate: string | undefined, now = new Date()): number | undefined {
  const m = /^(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?$/.exec(birthDate ?? '');
  if (!m) return undefined;
  const [y, mo, d] = [Number(m[1]), Number(m[2] ?? 1), Number(m[3] ?? 1)];
  let age = now.getUTCFullYear() - y;
  if (now.getUTCMonth() + 1 < mo || (now.getUTCMonth() + 1 === mo && now.getUTCDate() < d)) age--;
  return age >= 0 && age < 150 ? age : undefined;
}

/** The patient banner: name, birth date and age, sex, masked BSN; and why data about him is withheld. */
function patientBanner(model: OverviewModel, bsn: string, lang: Lang): Html {
  const t = translator(lang);
  const p = model.patient;
  const age = ageOn(p?.birthDate);
  const facts: Html[] = [];
  if (p?.birthDate) {
    facts.push(html`<span>${t('clin.born')} <time datetime="${p.birthDate}">${formatDate(p.birthDate, lang)}</time>${age !== undefined ? html` (${t('clin.age', { age })})` : ''}</span>`);
  }
  if (p?.gender) facts.push(html`<span>${t(`clin.sex.${p.gender}` as MessageKey)}</span>`);
  facts.push(html`<span>BSN <span aria-label="${t('clin.bsnMaskedLabel', { last: bsn.slice(-4) })}">${maskedBsn(bsn)}</span></span>`);
  return html`<section class="patient-card" aria-label="${t('clin.patient')}">
<p class="patient-name"><strong>${p?.name || t('clin.patientUnknown')}</strong></p>
<p class="patient-facts">${facts.map((x, i) => html`${i ? ' · ' : ''}${x}`)}</p>
${sectionNotes(model.patientNotes, lang)}</section>`;
}

/** The holders asked and how each answered (those that withheld everything on the patient's choice are never listed). */
function holdersAsked(holders: HolderSummary[] | undefined, lang: Lang): Html {
  if (!holders) return html``;
  const t = translator(lang);
  const answered = holders.filter((h) => h.status === 'ok').length;
  return html`<section class="holders" aria-labelledby="holders-title">
<h2 id="holders-title">${t('clin.holders.title')}</h2>
<p>${holders.length === 0 ? t('clin.holders.none') : t('clin.holders.summary', { answered, asked: holders.length })} ${t('clin.holders.unnamed')}</p>
${holders.length ? html`<ul>${holders.map((h) => html`<li>${h.name}: ${t(`clin.holders.${h.status}` as MessageKey)}</li>`)}</ul>` : ''}
</section>`;
}

/** What a section says about data it does not show: withheld by the patient's choice or the policy, or not answered. */
export function sectionNotes(notes: SectionNote[], lang: Lang): Html {
  if (!notes.length) return html``;
  const t = translator(lang);
  return html`<ul class="section-notes">${notes.map(
    (n) => html`<li class="note note-${n.kind.startsWith('category-') ? 'failed' : 'withheld'}">${t(`withheld.${n.kind}` as MessageKey, { holders: n.holders ?? '' })}</li>`,
  )}</ul>`;
}

/**
 * One section of the overview (one clinical group): its notes first, then its items, and
 * "no data" only when nothing was withheld or left unanswered. Other sections (imaging,
 * workflow) are added as another group with the same shape.
 */
export function groupSection(g: { group: ClinicalGroup; items: OverviewItem[]; notes: SectionNote[] }, lang: Lang): Html {
  const t = translator(lang);
  const table = g.items.length
    ? html`<div class="table-wrap" tabindex="0" role="region" aria-labelledby="g-${g.group}"><table>
<thead><tr><th scope="col">${t('clin.col.item')}</th><th scope="col">${t('clin.col.detail')}</th><th scope="col">${t(`clin.date.${g.group}`)}</th><th scope="col">${t('common.sources')}</th></tr></thead>
<tbody>${g.items.map((i) => itemRow(i, lang))}</tbody></table></div>`
    : g.notes.length
      ? ''
      : html`<p class="muted">${t('common.none')}</p>`;
  return html`<section aria-labelledby="g-${g.group}" data-section="${g.group}">
<h2 id="g-${g.group}">${t(`clin.group.${g.group}`)}</h2>
${sectionNotes(g.notes, lang)}${table}
</section>`;
}

export interface HolderSummary {
  name: string;
  status: string;
}

export interface OverviewState {
  bsn: string;
  /** The holders asked and their answer, when the overview port tells them. */
  holders?: HolderSummary[];
  exchange: ExchangeOption;
  emergencyReason?: string;
  emergencyError?: string;
}

export function emergencyForm(f: ViewerFrame, state: OverviewState): Html {
  const t = translator(f.lang);
  if (!state.exchange.emergencyAccess) return html`<p class="muted">${t('clin.emergency.notAllowed')}</p>`;
  return html`<section class="emergency" aria-labelledby="emergency-title">
<h2 id="emergency-title">${t('clin.emergency.title')}</h2>
<p>${t('clin.emergency.explain')}</p>
<form method="post" action="${f.basePath}/overview">
<input type="hidden" name="csrf" value="${f.user?.csrf ?? ''}">
<input type="hidden" name="bsn" value="${state.bsn}">
<input type="hidden" name="exchange" value="${state.exchange.code}">
<input type="hidden" name="emergency" value="1">
<label for="emergencyReason">${t('clin.emergency.reason')}</label>
${state.emergencyError ? html`<p class="field-error" id="reason-error">${state.emergencyError}</p>` : ''}
<textarea id="emergencyReason" name="emergencyReason" required maxlength="500"${state.emergencyError ? html` aria-invalid="true" aria-describedby="reason-error"` : ''}></textarea>
<div><button type="submit" class="danger">${t('clin.emergency.button')}</button></div>
</form>
</section>`;
}

export function overviewPage(f: ViewerFrame, model: OverviewModel, state: OverviewState, extra?: Html): string {
  const t = translator(f.lang);
  const title = t('clin.overviewTitle', { exchange: state.exchange.name[f.lang] });
  const patient = patientBanner(model, state.bsn, f.lang);
  const problems = model.problems.length
    ? banner(
        model.problems.some((p) => p.severity === 'error') ? 'error' : 'warn',
        t('clin.banner.title'),
        model.problems.map((p) => problemText(t, p)),
        t('clin.banner.intro'),
      )
    : '';
  const groups = model.groups.filter((g) => g.items.length > 0 || g.notes.length > 0 || g.group !== 'other').map((g) => groupSection(g, f.lang));
  return frame(
    f,
    title,
    html`<h1>${title}</h1>
${state.emergencyReason ? banner('warn', t('clin.emergency.used', { reason: state.emergencyReason })) : ''}
${patient}
${problems}
${groups}
${holdersAsked(state.holders, f.lang)}
${extra ?? ''}
${state.emergencyReason ? '' : emergencyForm(f, state)}
<p><a href="${f.basePath}/search">${t('clin.newSearch')}</a></p>`,
  );
}

/** The overview page without data: `message` says why (already translated). */
export function failedOverviewPage(f: ViewerFrame, state: OverviewState, message: string): string {
  const t = translator(f.lang);
  const title = t('clin.overviewTitle', { exchange: state.exchange.name[f.lang] });
  return frame(
    f,
    title,
    html`<h1>${title}</h1>${banner('error', message)}${state.emergencyReason ? '' : emergencyForm(f, state)}
<p><a href="${f.basePath}/search">${t('clin.newSearch')}</a></p>`,
  );
}
