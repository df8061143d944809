import { countryName } from '../../ncpeh/contract.ts';
import type { ForeignPatientSearch } from '../ports.ts';
import { type Html, html } from '../ui/html.ts';
import { formatDate, type MessageKey, translator } from '../ui/i18n.ts';
import { banner } from '../ui/layout.ts';
import type { ForeignItem, ForeignSection, ForeignSummaryModel } from './foreign-model.ts';
import { ageOn, frame, type ViewerFrame } from './pages.ts';

// The "patient from abroad" pages: a search by country, the other country's national number and
// the demographics on the patient's identity document; and the summary that came back, marked as
// foreign from the first line (country, contact point, dates), with each item's Dutch term beside
// the original term and code, and each section saying why it is empty when it is.

export interface ForeignSearchState {
  values?: Partial<ForeignPatientSearch>;
  /** An error above the form (already translated). */
  error?: string;
  detail?: string;
}

export function foreignSearchPage(f: ViewerFrame, countries: Array<{ country: string; name: string }>, state: ForeignSearchState = {}): string {
  const t = translator(f.lang);
  const v = state.values ?? {};
  const field = (name: keyof ForeignPatientSearch, label: MessageKey, attrs: Html, hint?: MessageKey) => html`<label for="f-${name}">${t(label)}</label>
${hint ? html`<span class="hint" id="f-${name}-hint">${t(hint)}</span>` : ''}
<input type="text" id="f-${name}" name="${name}" autocomplete="off" required value="${v[name] ?? ''}"${hint ? html` aria-describedby="f-${name}-hint"` : ''} ${attrs}>`;
  return frame(
    f,
    t('clin.foreign.title'),
    html`<h1>${t('clin.foreign.title')}</h1>
${state.error ? banner('error', state.error, state.detail ? [state.detail] : []) : ''}
<p class="lead">${t('clin.foreign.intro')}</p>
${countries.length === 0 ? banner('warn', t('clin.foreign.noCountries')) : ''}
<form method="post" action="${f.foreignPath ?? `${f.basePath}/buitenland`}" novalidate>
<input type="hidden" name="csrf" value="${f.user?.csrf ?? ''}">
<label for="f-country">${t('clin.foreign.country')}</label>
<select id="f-country" name="country">
${countries.map((c) => html`<option value="${c.country}"${c.country === v.country ? html` selected` : ''}>${countryName(c.country, f.lang)} (${c.country})</option>`)}
</select>
${field('id', 'clin.foreign.id', html`maxlength="32"`, 'clin.foreign.idHint')}
${field('given', 'clin.foreign.given', html`maxlength="200"`)}
${field('family', 'clin.foreign.family', html`maxlength="200"`)}
${field('birthDate', 'clin.foreign.birthDate', html`maxlength="10" placeholder="JJJJ-MM-DD" pattern="\\d{4}-\\d{2}-\\d{2}"`)}
<div><button type="submit">${t('clin.foreign.search')}</button></div>
</form>`,
  );
}

function itemRow(item: ForeignItem, t: ReturnType<typeof translator>): Html {
  return html`<tr>
<td>${item.dutch ? html`<strong>${item.dutch}</strong>` : html`<span class="tag tag-warn">${t('clin.foreign.untranslated')}</span>`}</td>
<td>${item.original}</td>
<td>${item.codes.length ? item.codes.join(', ') : '—'}</td>
<td>${item.details.join(' · ')}</td>
</tr>`;
}

function sectionBlock(s: ForeignSection, model: ForeignSummaryModel, f: ViewerFrame, i: number): Html {
  const t = translator(f.lang);
  const title = s.key === 'other' ? t('clin.foreign.section.other', { title: s.title }) : t(`clin.foreign.section.${s.key}` as MessageKey);
  const id = `fs-${i}`;
  const body =
    s.state === 'items'
      ? html`<div class="table-wrap" tabindex="0" role="region" aria-labelledby="${id}"><table>
<thead><tr><th scope="col">${t('clin.foreign.col.term')}</th><th scope="col">${t('clin.foreign.col.original')}</th><th scope="col">${t('clin.foreign.col.code')}</th><th scope="col">${t('clin.foreign.col.detail')}</th></tr></thead>
<tbody>${s.items.map((item) => itemRow(item, t))}</tbody></table></div>`
      : html`<ul class="section-notes"><li class="note note-${s.state === 'nilknown' ? 'info' : s.state === 'withheld' ? 'withheld' : 'failed'}" data-state="${s.state}">${t(`clin.foreign.state.${s.state}` as MessageKey, { country: countryName(model.country, f.lang) })}</li></ul>`;
  return html`<section aria-labelledby="${id}" data-section="${s.key}" data-state="${s.state}">
<h2 id="${id}">${title}</h2>
${body}
</section>`;
}

export function foreignSummaryPage(f: ViewerFrame, model: ForeignSummaryModel): string {
  const t = translator(f.lang);
  const p = model.patient;
  const age = ageOn(p.birthDate);
  const facts = [
    ...(p.birthDate ? [html`${t('clin.born')} <time datetime="${p.birthDate}">${formatDate(p.birthDate, f.lang)}</time>${age !== undefined ? html` (${t('clin.age', { age })})` : ''}`] : []),
    ...(p.gender ? [html`${t(`clin.sex.${p.gender}` as MessageKey)}`] : []),
    ...(p.identifier ? [html`${t('clin.foreign.patientId', { id: p.identifier })}`] : []),
  ];
  const country = countryName(model.country, f.lang);
  const provenance = [
    t('clin.foreign.source', { source: `${model.contactPoint}${model.source ? ` (${model.source})` : ''}` }),
    ...(model.documentDate ? [t('clin.foreign.documentDate', { date: formatDate(model.documentDate, f.lang, true) })] : []),
    ...(model.received ? [t('clin.foreign.received', { date: formatDate(model.received, f.lang, true) })] : []),
  ];
  return frame(
    f,
    t('clin.foreign.resultTitle'),
    html`<h1>${t('clin.foreign.resultTitle')}</h1>
<section class="banner banner-warn foreign-origin" role="status" data-country="${model.country}">
<h2>${t('clin.foreign.banner', { country: `${country} (${model.country})` })}</h2>
<p>${t('clin.foreign.bannerBody', { country })}</p>
<ul>${provenance.map((x) => html`<li>${x}</li>`)}</ul>
</section>
<section class="patient-card" aria-label="${t('clin.patient')}">
<p class="patient-name"><strong>${p.name ?? t('clin.patientUnknown')}</strong></p>
<p class="patient-facts">${facts.map((x, i) => html`${i ? ' · ' : ''}<span>${x}</span>`)}</p>
</section>
${model.sections.map((s, i) => sectionBlock(s, model, f, i))}
<p><a href="${f.foreignPath ?? `${f.basePath}/buitenland`}">${t('clin.foreign.again')}</a></p>`,
  );
}
