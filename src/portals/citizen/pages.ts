import { maskBsn } from '../../kit/identifiers/bsn.ts';
import type { ConsentMode } from '../../trust/contract.ts';
import type { OverviewModel } from '../clinician/overview-model.ts';
import type { CitizenIdentity, ConsentChoice, ProviderOption } from '../ports.ts';
import { type Html, html } from '../ui/html.ts';
import { formatDate, type Lang, type MessageKey, type Translate, translator } from '../ui/i18n.ts';
import { banner, type NavItem, page } from '../ui/layout.ts';
import { problemText } from '../ui/source-problems.ts';
import { CATEGORY_NAMES, categoryName, PROVIDER_KIND_NAMES, providerKindName } from './vocabulary.ts';
import { accessRows } from './access-rows.ts';
import type { AccessLogView } from './verify-access.ts';

// Mijn Gezondheidsoverzicht: my data (grouped and on a timeline), my consent choices with
// plain-language explanations, and who accessed my data with the log's proof checked.

export const CITIZEN_BASE = '/citizen';

export interface CitizenFrame {
  lang: Lang;
  path: string;
  assetBase: string;
  user?: { identity: CitizenIdentity; csrf: string };
}

type Section = 'data' | 'timeline' | 'consent' | 'access' | 'apps';

/** The citizen portal's page: its header, its navigation (when logged in) and the given main part. Also used by the apps pages. */
export function citizenFrame(f: CitizenFrame, title: string, main: Html, current?: Section): string {
  const t = translator(f.lang);
  const nav: NavItem[] | undefined = f.user
    ? (['data', 'timeline', 'consent', 'access', 'apps'] as const).map((s) => ({ href: `${CITIZEN_BASE}/${s}`, label: t(`cit.nav.${s}`), current: s === current }))
    : undefined;
  return page({
    lang: f.lang,
    portal: t('cit.title'),
    home: `${CITIZEN_BASE}/`,
    title,
    assetBase: f.assetBase,
    path: f.path,
    nav,
    user: f.user ? { name: f.user.identity.name ?? `BSN ${maskBsn(f.user.identity.bsn)}`, logoutAction: `${CITIZEN_BASE}/logout`, csrf: f.user.csrf } : undefined,
    main,
  });
}

export function citizenLoginPage(f: CitizenFrame, error?: string): string {
  const t = translator(f.lang);
  return citizenFrame(
    f,
    t('common.login'),
    html`<h1>${t('cit.title')}</h1>${error ? banner('error', error) : ''}<p class="lead">${t('cit.intro')}</p>
<p><a class="button" href="${CITIZEN_BASE}/login">${t('cit.loginButton')}</a></p>`,
  );
}

export function dataPage(f: CitizenFrame, model: OverviewModel | undefined): string {
  const t = translator(f.lang);
  if (!model) return citizenFrame(f, t('cit.data.title'), html`<h1>${t('cit.data.title')}</h1>${banner('error', t('cit.data.failed'))}`, 'data');
  const groups = model.groups
    .filter((g) => g.items.length)
    .map(
      (g) => html`<section aria-labelledby="g-${g.group}"><h2 id="g-${g.group}">${t(`clin.group.${g.group}`)}</h2>
<div class="table-wrap"><table><thead><tr><th scope="col">${t('clin.col.item')}</th><th scope="col">${t('clin.col.detail')}</th><th scope="col">${t('common.date')}</th><th scope="col">${t('common.sources')}</th></tr></thead>
<tbody>${g.items.map(
        (i) => html`<tr><td>${i.patientReported ? html`<span class="tag tag-warn">${t('common.patientReported')}</span> ` : ''}${i.label}</td><td>${i.details.join(' · ')}</td><td>${i.date ? html`<time datetime="${i.date}">${formatDate(i.date, f.lang)}</time>` : ''}</td><td class="sources">${i.sources.join(', ')}</td></tr>`,
      )}</tbody></table></div></section>`,
    );
  const problems = model.problems.length ? banner('warn', t('clin.banner.title'), model.problems.map((p) => problemText(t, p))) : '';
  return citizenFrame(
    f,
    t('cit.data.title'),
    html`<h1>${t('cit.data.title')}</h1><p class="lead">${t('cit.data.intro')}</p>${problems}${groups.length ? groups : html`<p>${t('common.none')}</p>`}`,
    'data',
  );
}

export function timelinePage(f: CitizenFrame, model: OverviewModel | undefined): string {
  const t = translator(f.lang);
  if (!model) return citizenFrame(f, t('cit.timeline.title'), html`<h1>${t('cit.timeline.title')}</h1>${banner('error', t('cit.data.failed'))}`, 'timeline');
  const items = model.groups
    .flatMap((g) => g.items.map((i) => ({ ...i, group: g.group })))
    .sort((a, b) => b.date.localeCompare(a.date));
  return citizenFrame(
    f,
    t('cit.timeline.title'),
    html`<h1>${t('cit.timeline.title')}</h1><p class="lead">${t('cit.timeline.intro')}</p>
${
  items.length
    ? html`<ol class="timeline">${items.map(
        (i) => html`<li><time datetime="${i.date}">${i.date ? formatDate(i.date, f.lang) : t('common.unknown')}</time>
<span class="tag">${t(`clin.group.${i.group}`)}</span> ${i.label}${i.details.length ? html` <span class="muted">(${i.details.join(' · ')})</span>` : ''}
<div class="sources">${t('common.source')}: ${i.sources.join(', ')}</div></li>`,
      )}</ol>`
    : html`<p>${t('common.none')}</p>`
}`,
    'timeline',
  );
}

/**
 * One choice as a whole sentence, built from its parts (not glued fragments): who may (not) see
 * which data, from which holders; a withdrawn choice in the past tense with the date it ended.
 * "Je maakt bezwaar: ziekenhuizen mogen je allergieën niet inzien."
 */
export function choiceSentence(c: ConsentChoice, lang: Lang, providers: ProviderOption[]): string {
  const t = translator(lang);
  const name = (ura: string) => providers.find((p) => p.ura === ura)?.name ?? `URA ${ura}`;
  const list = (items: string[]) => (items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} ${t('cit.consent.and')} ${items.at(-1)}`);
  const what = c.dataCategories.length ? list(c.dataCategories.map((x) => categoryName(x, lang))) : t('cit.consent.allData');
  const named = c.requesterUras.map(name);
  const kinds = c.requesterTypes.map((x) => providerKindName(x, lang));
  const whoList = [...named, ...kinds];
  // "Ziekenhuis Veluwe mag", but "ziekenhuizen mogen" and "alle zorgverleners mogen".
  const plural = whoList.length !== 1 || kinds.length > 0;
  const who = whoList.length ? list(whoList) : t('cit.consent.anyone');
  const holders = [...c.holderUras.map(name), ...c.holderTypes.map((x) => providerKindName(x, lang))];
  const withdrawn = c.status !== 'active';
  const key = `cit.consent.sentence.${c.provision}.${withdrawn ? 'past' : 'now'}.${plural ? 'plural' : 'single'}` as MessageKey;
  const sentence = t(key, {
    // The name opens the clause after the colon of a current choice; in the past tense it stands mid-sentence.
    who: withdrawn ? who : who.charAt(0).toUpperCase() + who.slice(1),
    what: holders.length ? t('cit.consent.whatFrom', { what, holders: list(holders) }) : what,
    date: c.recordedAt ? formatDate(c.recordedAt, lang) : t('common.unknown'),
  });
  return sentence;
}

function choiceActions(c: ConsentChoice, csrf: string, t: Translate): Html {
  if (c.status !== 'active') return html``;
  const form = (action: string, label: string, cls = 'secondary') =>
    html`<form class="inline-form" method="post" action="${CITIZEN_BASE}/consent/${c.id}">
<input type="hidden" name="csrf" value="${csrf}"><input type="hidden" name="version" value="${c.version}"><input type="hidden" name="action" value="${action}">
<button type="submit" class="${cls}">${label}</button></form>`;
  return html`${form('flip', t(c.provision === 'permit' ? 'cit.consent.flip.toDeny' : 'cit.consent.flip.toPermit'))}${form('withdraw', t('cit.consent.withdraw'), 'danger')}`;
}

export interface ConsentPageState {
  mode?: ConsentMode;
  choices?: ConsentChoice[];
  providers: ProviderOption[];
  saved?: boolean;
  error?: string;
}

export function consentPage(f: CitizenFrame, s: ConsentPageState): string {
  const t = translator(f.lang);
  const csrf = f.user?.csrf ?? '';
  const radio = (name: string, value: string, label: string, checked = false, describedBy?: string) =>
    html`<div class="choice"><input type="radio" id="${name}-${value}" name="${name}" value="${value}"${checked ? html` checked` : ''}${describedBy ? html` aria-describedby="${describedBy}"` : ''}><label for="${name}-${value}">${label}</label></div>`;
  // Research choices (EHDS secondary use) are a kind of their own, shown in their own section.
  const care = s.choices?.filter((c) => c.purpose !== 'HRESCH');
  const list = care
    ? care.length
      ? html`<ul class="choices">${care.map(
          (c) => html`<li><p>${choiceSentence(c, f.lang, s.providers)}</p>${choiceActions(c, csrf, t)}</li>`,
        )}</ul>`
      : html`<p>${t('cit.consent.none')}</p>`
    : banner('error', t('cit.consent.loadFailed'));
  return citizenFrame(
    f,
    t('cit.consent.title'),
    html`<h1>${t('cit.consent.title')}</h1>
<p class="lead">${t('cit.consent.intro')}</p>
${s.mode ? html`<p>${t(`cit.consent.mode.${s.mode}`)}</p>` : ''}
<p>${t('cit.consent.precedence')}</p>
${s.saved ? banner('ok', t('cit.consent.saved')) : ''}
${s.error ? banner('error', s.error) : ''}
<h2>${t('cit.consent.current')}</h2>
${list}
${researchSection(s.choices, csrf, t)}
<h2>${t('cit.consent.add')}</h2>
<form method="post" action="${CITIZEN_BASE}/consent" data-consent-form>
<input type="hidden" name="csrf" value="${csrf}">
<fieldset><legend>${t('cit.consent.provision')}</legend>
${radio('provision', 'deny', t('cit.consent.provision.deny'), true)}
${radio('provision', 'permit', t('cit.consent.provision.permit'))}
</fieldset>
<fieldset><legend>${t('cit.consent.scope')}</legend>
${radio('scope', 'all', t('cit.consent.scope.all'), true, 'explain-all')}<p class="hint" id="explain-all">${t('cit.consent.explain.all')}</p>
${radio('scope', 'category', t('cit.consent.scope.category'), false, 'explain-category')}<p class="hint" id="explain-category">${t('cit.consent.explain.category')}</p>
${radio('scope', 'type', t('cit.consent.scope.type'), false, 'explain-type')}<p class="hint" id="explain-type">${t('cit.consent.explain.type')}</p>
${radio('scope', 'provider', t('cit.consent.scope.provider'), false, 'explain-provider')}<p class="hint" id="explain-provider">${t('cit.consent.explain.provider')}</p>
</fieldset>
<div data-scope-field="category"><label for="category">${t('cit.consent.category')}</label>
<select id="category" name="category">${Object.keys(CATEGORY_NAMES).map((c) => html`<option value="${c}">${categoryName(c, f.lang)}</option>`)}</select></div>
<div data-scope-field="type"><label for="type">${t('cit.consent.type')}</label>
<select id="type" name="type">${Object.keys(PROVIDER_KIND_NAMES).map((c) => html`<option value="${c}">${providerKindName(c, f.lang)}</option>`)}</select></div>
<div data-scope-field="provider"><label for="provider">${t('cit.consent.provider')}</label>
<select id="provider" name="provider">${s.providers.map((p) => html`<option value="${p.ura}">${p.name}</option>`)}</select></div>
<div><button type="submit">${t('common.save')}</button></div>
</form>`,
    'consent',
  );
}

/** The research opt-out: one objection, made or withdrawn, separate from the care choices. */
function researchSection(choices: ConsentChoice[] | undefined, csrf: string, t: Translate): Html {
  const objected = choices?.some((c) => c.purpose === 'HRESCH' && c.status === 'active' && c.provision === 'deny');
  const state = choices === undefined ? banner('error', t('cit.research.unknown')) : html`<p data-research-state="${objected ? 'objected' : 'none'}">${t(objected ? 'cit.research.objected' : 'cit.research.notObjected')}</p>`;
  const form =
    choices === undefined
      ? ''
      : html`<form method="post" action="${CITIZEN_BASE}/consent/research"><input type="hidden" name="csrf" value="${csrf}"><input type="hidden" name="objection" value="${objected ? 'withdraw' : 'object'}"><button type="submit">${t(objected ? 'cit.research.withdraw' : 'cit.research.object')}</button></form>`;
  return html`<section aria-labelledby="research-title"><h2 id="research-title">${t('cit.research.title')}</h2><p>${t('cit.research.intro')}</p>${state}${form}</section>`;
}

export function accessPage(f: CitizenFrame, view: AccessLogView | undefined): string {
  const t = translator(f.lang);
  if (!view) return citizenFrame(f, t('cit.access.title'), html`<h1>${t('cit.access.title')}</h1>${banner('error', t('cit.access.failed'))}`, 'access');
  const head = view.headVerified && view.head
    ? banner('ok', t('cit.access.proof'), [], t('cit.access.headOk', { size: view.head.treeSize, root: view.head.rootHash, when: formatDate(view.head.timestamp, f.lang, true) }))
    : banner('warn', t('cit.access.proof'), [], t('cit.access.headBad'));
  const orgName = (ura: string | undefined, name: string | undefined) => name ?? (ura ? `URA ${ura}` : t('common.unknown'));
  const rows = accessRows(view.entries).map((r) => {
    const holders = r.holders.map((h) => (h.refused ? t('cit.access.holderRefused', { name: orgName(h.ura, h.name) }) : orgName(h.ura, h.name)));
    return html`<tr>
<td><time datetime="${r.when}">${formatDate(r.when, f.lang, true)}</time></td>
<td>${r.kind === 'self' ? t('cit.access.self') : r.kind === 'app' ? t('cit.access.app', { name: r.appName ?? '' }) : r.kind === 'research' ? html`<span class="tag" data-research-use="${r.research?.permitId ?? ''}">${t('cit.access.research')}</span><br>${orgName(r.accessorUra, r.accessorName)}` : html`${orgName(r.accessorUra, r.accessorName)}${r.professionalName ? html`<br>${r.professionalName}` : ''}`}</td>
<td>${r.roleName ?? r.roleCode ?? ''}</td>
<td>${r.refused ? html`<span class="tag">${t('cit.access.refused')}</span> ` : ''}${r.dataCategories.map((c) => categoryName(c, f.lang)).join(', ')}${holders.length ? html`<div class="sources">${t('cit.access.holders', { holders: holders.join(', ') })}</div>` : ''}</td>
<td>${r.kind === 'research' ? html`${t('cit.access.researchWhy', { permit: r.research?.permitId ?? '' })}${r.research?.purpose ? html`<br>${r.research.purpose}` : ''}<div class="sources">${t('cit.access.researchNoResult')}</div>` : r.kind === 'self' ? t('cit.access.selfWhy') : r.kind === 'app' ? t('cit.access.appWhy') : r.emergency ? html`<span class="tag tag-danger">${t('cit.access.emergency')}</span> ${r.emergencyReason ?? ''}` : t('cit.access.regular')}</td>
<td>${r.inLog ? html`<span class="tag tag-ok">✓ ${t('cit.access.proofOk')}</span>` : html`<span class="tag tag-danger">${t('cit.access.proofBad')}</span>`}</td>
</tr>`;
  });
  return citizenFrame(
    f,
    t('cit.access.title'),
    html`<h1>${t('cit.access.title')}</h1><p class="lead">${t('cit.access.intro')}</p>${head}
${
  view.entries.length
    ? html`<div class="table-wrap"><table><thead><tr><th scope="col">${t('cit.access.when')}</th><th scope="col">${t('cit.access.who')}</th><th scope="col">${t('cit.access.role')}</th><th scope="col">${t('cit.access.what')}</th><th scope="col">${t('cit.access.why')}</th><th scope="col">${t('cit.access.proof')}</th></tr></thead>
<tbody>${rows}</tbody></table></div>`
    : html`<p>${t('cit.access.none')}</p>`
}`,
    'access',
  );
}
