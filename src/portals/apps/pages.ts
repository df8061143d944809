import { CITIZEN_BASE, citizenFrame } from '../citizen/pages.ts';
import { categoryName } from '../citizen/vocabulary.ts';
import type { CitizenIdentity } from '../ports.ts';
import { type Html, html } from '../ui/html.ts';
import { formatDate, type Lang } from '../ui/i18n.ts';
import { banner } from '../ui/layout.ts';
import type { Grant } from './grant-store.ts';
import { SHARE_PERMISSION } from './scopes.ts';

// The grant screen (an app asks, the citizen grants per data category) and "my apps" (every
// grant, with a revoke button), in Dutch first. Wording lives here, not in the shared
// dictionaries: only these pages use it.

export const APPS_BASE = `${CITIZEN_BASE}/apps`;

const WORDS = {
  nl: {
    title: 'Mijn apps',
    intro: 'Apps die je toegang hebt gegeven tot je gegevens. Je kunt die toegang altijd intrekken.',
    none: 'Je hebt nog geen app toegang gegeven.',
    asks: '{app} van {vendor} vraagt toegang tot je gegevens',
    asksIntro: 'De app haalt je gegevens op bij al je zorgverleners via het netwerk. Kies per soort gegevens wat de app mag lezen.',
    read: 'De app mag lezen',
    share: 'metingen (zoals bloeddruk, gewicht en glucose) naar een zorgverlener van jouw keuze sturen',
    allow: 'Toegang geven',
    deny: 'Weigeren',
    granted: 'Toegang sinds {when}',
    revoked: 'Ingetrokken op {when}',
    revoke: 'Toegang intrekken',
    revokedOk: 'De toegang van de app is ingetrokken.',
    unknownApp: 'Deze app is niet (meer) toegelaten tot het netwerk, of vraagt een adres dat niet bij de app hoort.',
    nothing: 'Kies minstens één soort gegevens, of weiger.',
    categories: 'Soorten gegevens',
    writes: 'Mag metingen delen',
    yes: 'ja',
    no: 'nee',
  },
  en: {
    title: 'My apps',
    intro: 'Apps you gave access to your data. You can withdraw that access at any time.',
    none: 'You have not given any app access yet.',
    asks: '{app} by {vendor} asks for access to your data',
    asksIntro: 'The app fetches your data from all your care providers through the network. Choose per kind of data what the app may read.',
    read: 'The app may read',
    share: 'send measurements (such as blood pressure, weight and glucose) to a care provider you choose',
    allow: 'Give access',
    deny: 'Refuse',
    granted: 'Access since {when}',
    revoked: 'Withdrawn on {when}',
    revoke: 'Withdraw access',
    revokedOk: "The app's access has been withdrawn.",
    unknownApp: 'This app is not (or no longer) admitted to the network, or asks for an address that is not the app’s.',
    nothing: 'Choose at least one kind of data, or refuse.',
    categories: 'Kinds of data',
    writes: 'May share measurements',
    yes: 'yes',
    no: 'no',
  },
} as const;

type Key = keyof (typeof WORDS)['nl'];
export const words = (lang: Lang) => (key: Key, vars: Record<string, string> = {}) =>
  WORDS[lang][key].replace(/\{(\w+)\}/g, (m, n: string) => vars[n] ?? m);

export interface AppFrame {
  lang: Lang;
  path: string;
  assetBase: string;
  citizen?: CitizenIdentity;
  csrf?: string;
}

// The citizen portal's own frame: the apps pages are a section of it.
const frame = (f: AppFrame, title: string, main: Html): string =>
  citizenFrame({ ...f, user: f.citizen && f.csrf ? { identity: f.citizen, csrf: f.csrf } : undefined }, title, main, f.path === APPS_BASE ? 'apps' : undefined);

export interface GrantRequestView {
  appName: string;
  vendor: string;
  categories: string[];
  share: boolean;
  /** The authorisation request's parameters, posted back unchanged. */
  params: Record<string, string>;
  error?: string;
}

export function grantPage(f: AppFrame, v: GrantRequestView): string {
  const w = words(f.lang);
  const box = (name: string, value: string, label: string) =>
    html`<div><input type="checkbox" id="${`g-${value}`}" name="${name}" value="${value}" checked> <label for="${`g-${value}`}">${label}</label></div>`;
  return frame(
    f,
    w('asks', { app: v.appName, vendor: v.vendor }),
    html`<h1>${w('asks', { app: v.appName, vendor: v.vendor })}</h1>${v.error ? banner('error', v.error) : ''}
<p class="lead">${w('asksIntro')}</p>
<form method="post" action="${APPS_BASE}/authorize">
<input type="hidden" name="csrf" value="${f.csrf ?? ''}">
${Object.entries(v.params).map(([k, val]) => html`<input type="hidden" name="${k}" value="${val}">`)}
<fieldset><legend>${w('read')}</legend>
${v.categories.map((c) => box('category', c, categoryName(c, f.lang)))}
${v.share ? box('category', SHARE_PERMISSION, w('share')) : ''}
</fieldset>
<div><button type="submit" name="decision" value="allow">${w('allow')}</button> <button type="submit" name="decision" value="deny">${w('deny')}</button></div>
</form>`,
  );
}

export function grantErrorPage(f: AppFrame): string {
  const w = words(f.lang);
  return frame(f, w('title'), html`<h1>${w('title')}</h1>${banner('error', w('unknownApp'))}`);
}

export function appsPage(f: AppFrame, grants: Grant[], saved: boolean): string {
  const w = words(f.lang);
  const rows = grants.map(
    (g) => html`<tr>
<td>${g.appName}</td>
<td>${g.categories.map((c) => categoryName(c, f.lang)).join(', ')}</td>
<td>${g.scopes.includes('patient/Observation.c') ? w('yes') : w('no')}</td>
<td>${g.revokedAt ? w('revoked', { when: formatDate(g.revokedAt, f.lang, true) }) : w('granted', { when: formatDate(g.createdAt, f.lang, true) })}</td>
<td>${
      g.revokedAt
        ? ''
        : html`<form method="post" action="${`${APPS_BASE}/${g.id}/revoke`}"><input type="hidden" name="csrf" value="${f.csrf ?? ''}"><button type="submit">${w('revoke')}</button></form>`
    }</td></tr>`,
  );
  return frame(
    f,
    w('title'),
    html`<h1>${w('title')}</h1>${saved ? banner('ok', w('revokedOk')) : ''}<p class="lead">${w('intro')}</p>
${
  grants.length
    ? html`<div class="table-wrap"><table><thead><tr><th scope="col">App</th><th scope="col">${w('categories')}</th><th scope="col">${w('writes')}</th><th scope="col"></th><th scope="col"></th></tr></thead><tbody>${rows}</tbody></table></div>`
    : html`<p>${w('none')}</p>`
}`,
  );
}
