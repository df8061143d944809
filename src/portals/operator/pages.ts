import { ORGANIZATION_TYPES, roleName } from '../../kit/identifiers/roles.ts';
import type { AgreementsDocument, Participant, ParticipantStatus } from '../../trust/contract.ts';
import type { CertificateInfo, ExchangeStat, PartHealth } from '../ports.ts';
import { type Html, html } from '../ui/html.ts';
import { formatDate, type Lang, translator } from '../ui/i18n.ts';
import { banner, type NavItem, page } from '../ui/layout.ts';

// The operator dashboard: participants and their qualifications with the actions the trust
// part allows, the network's health and exchange volumes, expiring certificates, the agreements.

export const OPERATOR_BASE = '/operator';

export interface OperatorFrame {
  lang: Lang;
  path: string;
  assetBase: string;
  csrf?: string;
  flash?: { kind: 'ok' | 'error'; text: string };
}

export type Section = 'participants' | 'network' | 'certificates' | 'agreements' | 'permits';

export function frame(f: OperatorFrame, title: string, main: Html, current?: Section): string {
  const t = translator(f.lang);
  const nav: NavItem[] | undefined = f.csrf
    ? (['participants', 'network', 'certificates', 'agreements', 'permits'] as const).map((s) => ({ href: `${OPERATOR_BASE}/${s}`, label: t(`op.nav.${s}`), current: s === current }))
    : undefined;
  return page({
    lang: f.lang,
    portal: t('op.title'),
    home: `${OPERATOR_BASE}/`,
    title,
    assetBase: f.assetBase,
    path: f.path,
    nav,
    user: f.csrf ? { name: 'operator', logoutAction: `${OPERATOR_BASE}/logout`, csrf: f.csrf } : undefined,
    main: html`${f.flash ? banner(f.flash.kind, f.flash.text) : ''}${main}`,
  });
}

export function operatorLoginPage(f: OperatorFrame, options: { passwordRequired: boolean; error?: string }): string {
  const t = translator(f.lang);
  return frame(
    f,
    t('common.login'),
    html`<h1>${t('op.title')}</h1><p class="lead">${t('op.login.intro')}</p>${options.error ? banner('error', options.error) : ''}
<form method="post" action="${OPERATOR_BASE}/login">
${
  options.passwordRequired
    ? html`<label for="password">${t('op.login.password')}</label><input type="password" id="password" name="password" autocomplete="current-password" required>`
    : html`<p class="muted">${t('op.login.sandbox')}</p>`
}
<div><button type="submit">${t('common.login')}</button></div>
</form>`,
  );
}

const NEXT: Record<ParticipantStatus, Array<{ to: ParticipantStatus; label: 'op.action.admit' | 'op.action.suspend' | 'op.action.revoke' }>> = {
  applied: [{ to: 'admitted', label: 'op.action.admit' }, { to: 'revoked', label: 'op.action.revoke' }],
  admitted: [{ to: 'suspended', label: 'op.action.suspend' }, { to: 'revoked', label: 'op.action.revoke' }],
  suspended: [{ to: 'admitted', label: 'op.action.admit' }, { to: 'revoked', label: 'op.action.revoke' }],
  revoked: [],
};

/** The actions on one participant: status changes (never suspend or revoke the operator itself), qualifications. */
function participantActions(p: Participant, f: OperatorFrame, qualificationCodes: string[], operatorUra?: string): Html {
  const t = translator(f.lang);
  const csrf = f.csrf ?? '';
  const now = Date.now();
  const live = p.qualifications.filter((q) => !q.validUntil || Date.parse(q.validUntil) > now);
  const id = `p-${p.ura}`;
  const own = p.ura === operatorUra;
  const statusForms = NEXT[p.status]
    .filter((n) => !own || n.to === 'admitted')
    .map(
      (n) => html`<form class="inline-form" method="post" action="${OPERATOR_BASE}/participants/${p.ura}/status">
<input type="hidden" name="csrf" value="${csrf}"><input type="hidden" name="status" value="${n.to}">
<label for="${id}-reason-${n.to}">${t('op.reason')}</label><input type="text" id="${id}-reason-${n.to}" name="reason" required maxlength="200">
<button type="submit" class="${n.to === 'admitted' ? '' : 'danger'}">${t(n.label)}</button></form>`,
    );
  const quals = live.length
    ? html`<ul>${live.map(
        (q) => html`<li>${q.qualification}${q.validUntil ? html` (${t('op.validUntil')} ${formatDate(q.validUntil, f.lang)})` : ''}
<form class="inline-form" method="post" action="${OPERATOR_BASE}/participants/${p.ura}/withdraw"><input type="hidden" name="csrf" value="${csrf}"><input type="hidden" name="qualification" value="${q.qualification}"><button type="submit" class="secondary" aria-label="${t('op.action.withdrawQualification')}: ${q.qualification}">${t('op.action.withdrawQualification')}</button></form></li>`,
      )}</ul>`
    : html`<p class="muted">–</p>`;
  const qualify =
    p.status === 'revoked'
      ? ''
      : html`<form class="inline-form" method="post" action="${OPERATOR_BASE}/participants/${p.ura}/qualify">
<input type="hidden" name="csrf" value="${csrf}">
<label for="${id}-q">${t('op.qualification')}</label><select id="${id}-q" name="qualification">${qualificationCodes.map((c) => html`<option value="${c}">${c}</option>`)}</select>
<label for="${id}-until">${t('op.validUntil')}</label><input type="date" id="${id}-until" name="validUntil">
<button type="submit" class="secondary">${t('op.action.qualify')}</button></form>`;
  return html`<section aria-labelledby="${id}-status"><h2 id="${id}-status">${t('op.col.status')}</h2>
<p><span class="tag ${p.status === 'admitted' ? 'tag-ok' : 'tag-danger'}">${t(`op.status.${p.status}`)}</span>${own ? html` <span class="muted">${t('op.ownParticipant')}</span>` : ''}</p>
${statusForms}</section>
<section aria-labelledby="${id}-quals"><h2 id="${id}-quals">${t('op.col.qualifications')}</h2>${quals}${qualify}</section>`;
}

function participantRow(p: Participant, f: OperatorFrame): Html {
  const t = translator(f.lang);
  return html`<tr id="p-${p.ura}">
<td class="mono">${p.ura}</td><td><a href="${OPERATOR_BASE}/participants/${p.ura}">${p.name}</a></td><td>${ORGANIZATION_TYPES[p.organizationType] ?? p.organizationType}</td>
<td><span class="tag ${p.status === 'admitted' ? 'tag-ok' : 'tag-danger'}">${t(`op.status.${p.status}`)}</span></td>
<td>${p.qualifications.length}</td></tr>`;
}

/** Participants as a compact table with a search on name, URA or type; actions are on each participant's own page. */
export function participantsPage(
  f: OperatorFrame,
  participants: Participant[] | string,
  _qualificationCodes: string[],
  options: { query?: string; operatorUra?: string } = {},
): string {
  const t = translator(f.lang);
  const q = (options.query ?? '').toLowerCase();
  const shown =
    typeof participants === 'string'
      ? participants
      : participants.filter(
          (p) => !q || p.name.toLowerCase().includes(q) || p.ura.includes(q) || (ORGANIZATION_TYPES[p.organizationType] ?? p.organizationType).toLowerCase().includes(q),
        );
  const search = html`<form method="get" action="${OPERATOR_BASE}/participants" role="search" class="inline-form">
<label for="q">${t('op.participants.search')}</label><input type="search" id="q" name="q" value="${options.query ?? ''}" maxlength="100">
<button type="submit" class="secondary">${t('op.participants.searchButton')}</button></form>`;
  const body =
    typeof shown === 'string'
      ? banner('error', t('op.loadFailed', { reason: shown }))
      : html`<div class="table-wrap"><table><caption>${t('op.participants.title')} (${shown.length})</caption>
<thead><tr><th scope="col">${t('op.col.ura')}</th><th scope="col">${t('op.col.name')}</th><th scope="col">${t('op.col.type')}</th><th scope="col">${t('op.col.status')}</th><th scope="col">${t('op.col.qualifications')}</th></tr></thead>
<tbody>${shown.map((p) => participantRow(p, f))}</tbody></table></div>`;
  return frame(f, t('op.participants.title'), html`<h1>${t('op.participants.title')}</h1>${search}${body}`, 'participants');
}

/** One participant: its details and every action the trust part allows on it. */
export function participantDetailPage(f: OperatorFrame, p: Participant | string | undefined, qualificationCodes: string[], operatorUra?: string): string {
  const t = translator(f.lang);
  if (typeof p === 'string') return frame(f, t('op.participants.title'), html`<h1>${t('op.participants.title')}</h1>${banner('error', t('op.loadFailed', { reason: p }))}`, 'participants');
  if (!p) return frame(f, t('op.participants.title'), html`<h1>${t('op.participants.title')}</h1>${banner('error', t('op.participants.notFound'))}`, 'participants');
  return frame(
    f,
    p.name,
    html`<p><a href="${OPERATOR_BASE}/participants">${t('op.participants.back')}</a></p>
<h1>${p.name}</h1>
<dl class="facts"><dt>${t('op.col.ura')}</dt><dd class="mono">${p.ura}</dd><dt>${t('op.col.type')}</dt><dd>${ORGANIZATION_TYPES[p.organizationType] ?? p.organizationType}</dd></dl>
${participantActions(p, f, qualificationCodes, operatorUra)}`,
    'participants',
  );
}

export function networkPage(f: OperatorFrame, health: PartHealth[] | string, stats: ExchangeStat[] | string): string {
  const t = translator(f.lang);
  const healthTable =
    typeof health === 'string'
      ? banner('error', t('op.loadFailed', { reason: health }))
      : html`<div class="table-wrap"><table><caption>${t('op.network.parts')}</caption>
<thead><tr><th scope="col">${t('op.col.name')}</th><th scope="col">${t('op.network.kind')}</th><th scope="col">${t('op.col.status')}</th><th scope="col">${t('op.network.latency')}</th><th scope="col">URL</th></tr></thead>
<tbody>${health.map(
          (h) => html`<tr><td>${h.name}</td><td>${h.kind}</td>
<td class="${h.up ? 'status-up' : 'status-down'}">${h.up ? `● ${t('op.network.up')}` : `✕ ${t('op.network.down')}`}${h.detail ? html`<br><span class="muted">${h.detail}</span>` : ''}</td>
<td>${h.latencyMs !== undefined ? `${h.latencyMs} ms` : '–'}</td><td class="mono">${h.url}</td></tr>`,
        )}</tbody></table></div>`;
  const statsTable =
    typeof stats === 'string'
      ? banner('error', t('op.loadFailed', { reason: stats }))
      : stats.length
        ? html`<div class="table-wrap"><table><caption>${t('op.network.exchanges')}</caption>
<thead><tr><th scope="col">${t('op.agreements.exchange')}</th><th scope="col">${t('op.network.volume')}</th><th scope="col">${t('op.network.failures')}</th><th scope="col">${t('op.network.failureRate')}</th></tr></thead>
<tbody>${stats.map(
            (s) => html`<tr><td>${s.exchange}</td><td>${s.requests}</td><td>${s.failures}</td><td>${s.requests ? ((100 * s.failures) / s.requests).toFixed(1) : '0.0'}%</td></tr>`,
          )}</tbody></table></div>`
        : html`<h2>${t('op.network.exchanges')}</h2><p class="muted">${t('common.none')}</p>`;
  return frame(f, t('op.network.title'), html`<h1>${t('op.network.title')}</h1>${healthTable}${statsTable}`, 'network');
}

export function certificatesPage(f: OperatorFrame, certs: CertificateInfo[] | string, warningDays: number): string {
  const t = translator(f.lang);
  const now = Date.now();
  let body: Html;
  if (typeof certs === 'string') body = banner('error', t('op.loadFailed', { reason: certs }));
  else {
    // Every certificate that is not revoked can be revoked (a compromised key does not wait for
    // expiry); those expiring within the warning window come first and are marked.
    const active = certs.filter((c) => c.status !== 'revoked').sort((a, b) => a.notAfter.localeCompare(b.notAfter));
    const expiring = (c: CertificateInfo) => Date.parse(c.notAfter) - now < warningDays * 86_400_000;
    const soon = active.filter(expiring).length;
    body = active.length
      ? html`${soon ? banner('warn', t('op.certs.intro', { days: warningDays }), [t('op.certs.count', { count: soon })]) : html`<p>${t('op.certs.none')}</p>`}<div class="table-wrap"><table>
<thead><tr><th scope="col">${t('op.certs.subject')}</th><th scope="col">${t('op.certs.serial')}</th><th scope="col">${t('op.certs.expires')}</th><th scope="col">${t('op.col.actions')}</th></tr></thead>
<tbody>${active.map((c) => {
          const days = Math.floor((Date.parse(c.notAfter) - now) / 86_400_000);
          const mark = expiring(c) ? html` <span class="tag tag-danger">${days < 0 ? t('op.certs.expired') : t('op.certs.daysLeft', { days })}</span>` : '';
          return html`<tr><td>${c.subject}</td><td class="mono">${c.serial}</td>
<td><time datetime="${c.notAfter}">${formatDate(c.notAfter, f.lang)}</time>${mark}</td>
<td><form class="inline-form" method="post" action="${OPERATOR_BASE}/certificates/${c.serial}/revoke"><input type="hidden" name="csrf" value="${f.csrf ?? ''}">
<label for="r-${c.serial}">${t('op.reason')}</label><input type="text" id="r-${c.serial}" name="reason" required maxlength="200">
<button type="submit" class="danger">${t('op.action.revokeCertificate')}</button></form></td></tr>`;
        })}</tbody></table></div>`
      : html`<p>${t('op.certs.noneAtAll')}</p>`;
  }
  return frame(f, t('op.certs.title'), html`<h1>${t('op.certs.title')}</h1>${body}`, 'certificates');
}

export function agreementsPage(f: OperatorFrame, doc: AgreementsDocument | string): string {
  const t = translator(f.lang);
  if (typeof doc === 'string') {
    return frame(f, t('op.agreements.title'), html`<h1>${t('op.agreements.title')}</h1>${banner('error', t('op.loadFailed', { reason: doc }))}`, 'agreements');
  }
  return frame(
    f,
    t('op.agreements.title'),
    html`<h1>${t('op.agreements.title')}</h1>
<p>${t('op.agreements.version', { version: doc.version, when: formatDate(doc.issuedAt, f.lang, true), issuer: doc.issuer })}</p>
<p>${t('op.agreements.mode', { mode: doc.network.consentMode })}</p>
<div class="table-wrap"><table><thead><tr><th scope="col">${t('op.agreements.exchange')}</th><th scope="col">${t('op.agreements.roles')}</th><th scope="col">${t('op.agreements.categories')}</th><th scope="col">${t('op.agreements.basis')}</th><th scope="col">${t('op.agreements.emergency')}</th></tr></thead>
<tbody>${doc.exchanges.map(
      (x) => html`<tr><td>${x.name[f.lang]} <span class="mono">(${x.code})</span></td><td><ul class="plain">${x.requesterRoles.map((r) => html`<li>${roleName(r) ?? r} <span class="mono muted">(${r})</span></li>`)}</ul></td><td>${x.dataCategories.join(', ')}</td><td>${x.legalBasis.join(', ')}</td><td>${x.emergencyAccess ? t('common.yes') : t('common.no')}</td></tr>`,
    )}</tbody></table></div>
<details><summary>${t('op.agreements.raw')}</summary><pre><code>${JSON.stringify(doc, null, 2)}</code></pre></details>`,
    'agreements',
  );
}
