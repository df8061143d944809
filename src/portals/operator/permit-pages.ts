import type { PermitView } from '../../secondary-use/contract.ts';
import { categoryName } from '../citizen/vocabulary.ts';
import { type Html, html } from '../ui/html.ts';
import { formatDate, translator } from '../ui/i18n.ts';
import { banner } from '../ui/layout.ts';
import { frame, OPERATOR_BASE, type OperatorFrame } from './pages.ts';

// The HDAB operator's pages (secondary use): every permit with its status, one application to
// review in full (purpose, legal basis, categories, cohort, period, fields), the decision with
// a reason, and the extraction with each holder's part. The HDAB itself decides who may do what
// (the operator's certificate); these pages only show and forward.

const STATUS_TAG: Record<PermitView['status'], string> = { applied: 'tag-warn', granted: 'tag-ok', refused: 'tag-danger', expired: '' };

function statusTag(p: PermitView, f: OperatorFrame): Html {
  const t = translator(f.lang);
  return html`<span class="tag ${STATUS_TAG[p.status]}" data-permit-status="${p.status}">${t(`op.permit.status.${p.status}`)}</span>`;
}

export function permitsPage(f: OperatorFrame, permits: PermitView[] | string): string {
  const t = translator(f.lang);
  const body =
    typeof permits === 'string'
      ? banner('error', t('op.permits.failed'), [], permits)
      : permits.length === 0
        ? html`<p>${t('op.permits.none')}</p>`
        : html`<div class="table-wrap"><table><thead><tr><th scope="col">${t('op.permit.applied')}</th><th scope="col">${t('op.permit.applicant')}</th><th scope="col">${t('op.permit.purpose')}</th><th scope="col">${t('op.col.status')}</th><th scope="col">${t('op.permit.workspace')}</th></tr></thead>
<tbody>${[...permits]
            .sort((a, b) => b.appliedAt.localeCompare(a.appliedAt))
            .map(
              (p) => html`<tr id="permit-${p.id}"><td><time datetime="${p.appliedAt}">${formatDate(p.appliedAt, f.lang, true)}</time></td><td class="mono">${p.applicant}</td>
<td><a href="${OPERATOR_BASE}/permits/${p.id}">${p.application.purpose}</a></td><td>${statusTag(p, f)}</td><td>${t(`op.permit.ws.${p.workspace}`)}</td></tr>`,
            )}</tbody></table></div>`;
  return frame(f, t('op.permits.title'), html`<h1>${t('op.permits.title')}</h1><p class="lead">${t('op.permits.intro')}</p>${body}`, 'permits');
}

function cohortText(p: PermitView, f: OperatorFrame): string {
  const t = translator(f.lang);
  const c = p.application.cohort;
  const parts = [
    c.conditions?.length ? t('op.permit.cohort.conditions', { codes: c.conditions.join(', ') }) : '',
    c.medications?.length ? t('op.permit.cohort.medications', { codes: c.medications.join(', ') }) : '',
    c.ageMin !== undefined || c.ageMax !== undefined ? t('op.permit.cohort.age', { min: String(c.ageMin ?? 0), max: c.ageMax !== undefined ? String(c.ageMax) : '…' }) : '',
  ].filter(Boolean);
  return parts.length ? parts.join('; ') : t('op.permit.cohort.everyone');
}

export function permitDetailPage(f: OperatorFrame, permit: PermitView | string): string {
  const t = translator(f.lang);
  if (typeof permit === 'string') return frame(f, t('op.permits.title'), html`<h1>${t('op.permits.title')}</h1>${banner('error', t('op.permits.failed'), [], permit)}`, 'permits');
  const a = permit.application;
  const csrf = f.csrf ?? '';
  const row = (label: string, value: Html | string) => html`<tr><th scope="row">${label}</th><td>${value}</td></tr>`;
  const review = html`<table class="facts"><tbody>
${row(t('op.permit.applicant'), permit.applicant)}
${row(t('op.permit.purpose'), a.purpose)}
${row(t('op.permit.legalBasis'), a.legalBasis)}
${row(t('op.permit.categories'), a.categories.map((c) => categoryName(c, f.lang)).join(', '))}
${row(t('op.permit.cohort'), cohortText(permit, f))}
${row(t('op.permit.period'), `${formatDate(a.periodStart, f.lang)} – ${formatDate(a.periodEnd, f.lang)}`)}
${row(t('op.permit.fields'), a.types.join(', '))}
${row(t('op.permit.precision'), t(`op.permit.precision.${a.datePrecision}`))}
${row(t('op.permit.minCell'), String(a.minCell))}
${row(t('op.col.status'), html`${statusTag(permit, f)}${permit.decisionReason ? html` — ${permit.decisionReason}` : ''}`)}
</tbody></table>`;
  const decision =
    permit.status === 'applied'
      ? html`<section aria-labelledby="decide"><h2 id="decide">${t('op.permit.decide')}</h2>
<form method="post" action="${OPERATOR_BASE}/permits/${permit.id}/decision"><input type="hidden" name="csrf" value="${csrf}">
<label for="reason">${t('op.reason')}</label><textarea id="reason" name="reason" required maxlength="2000"></textarea>
<div><button type="submit" name="decision" value="grant">${t('op.permit.grant')}</button> <button type="submit" name="decision" value="refuse" class="danger">${t('op.permit.refuse')}</button></div></form></section>`
      : '';
  const holders = permit.extraction?.holders ?? [];
  const extraction =
    permit.status === 'granted'
      ? html`<section aria-labelledby="extraction"><h2 id="extraction">${t('op.permit.extraction')}</h2>
<p data-workspace="${permit.workspace}">${t('op.permit.workspace')}: ${t(`op.permit.ws.${permit.workspace}`)}</p>
${
  holders.length
    ? html`<div class="table-wrap"><table><thead><tr><th scope="col">${t('op.permit.holder')}</th><th scope="col">${t('op.col.status')}</th><th scope="col">${t('op.permit.resources')}</th></tr></thead><tbody>${holders.map(
        (h) => html`<tr data-holder="${h.ura}"><td>${h.name} <span class="mono">${h.ura}</span></td><td><span class="tag ${h.status === 'delivered' ? 'tag-ok' : 'tag-danger'}">${t(`op.permit.holder.${h.status}`)}</span>${h.reason ? html` ${h.reason}` : ''}</td><td>${h.resources ?? '–'}</td></tr>`,
      )}</tbody></table></div>`
    : ''
}
${
  permit.workspace === 'extracting'
    ? ''
    : html`<form method="post" action="${OPERATOR_BASE}/permits/${permit.id}/extraction"><input type="hidden" name="csrf" value="${csrf}"><button type="submit">${t(permit.workspace === 'none' ? 'op.permit.extract' : 'op.permit.extractAgain')}</button></form>`
}</section>`
      : '';
  return frame(f, t('op.permit.title'), html`<p><a href="${OPERATOR_BASE}/permits">← ${t('op.permits.title')}</a></p><h1>${t('op.permit.title')}</h1>${review}${decision}${extraction}`, 'permits');
}
