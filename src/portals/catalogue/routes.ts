import type { FastifyInstance } from 'fastify';
import { html } from '../ui/html.ts';
import { type Lang, languageOf } from '../ui/i18n.ts';
import { page } from '../ui/layout.ts';
import { sendPage } from '../ui/web.ts';
import type { Catalogue } from './index.ts';

// GET /apis: the public API catalogue page (Dutch by default, English with ?lang=en);
// GET /apis.json: the same as one machine-readable index.

export const CATALOGUE_PATH = '/apis';

const WORDS: Record<Lang, Record<string, string>> = {
  nl: {
    title: 'API-bibliotheek',
    intro: 'Alle koppelvlakken van het netwerk: standaard, versie, beschrijving (CapabilityStatement of OpenAPI), scopes en de uitwisselingen die ze gebruiken. Machineleesbaar:',
    name: 'Koppelvlak',
    standard: 'Standaard',
    version: 'Versie',
    description: 'Beschrijving',
    scopes: 'Scopes',
    exchanges: 'Uitwisselingen',
    none: 'geen',
    unavailable: 'De afspraken zijn nu niet bereikbaar; scopes en uitwisselingen ontbreken.',
  },
  en: {
    title: 'API catalogue',
    intro: 'Every interface of the network: standard, version, description (CapabilityStatement or OpenAPI), scopes and the exchanges that use it. Machine-readable:',
    name: 'Interface',
    standard: 'Standard',
    version: 'Version',
    description: 'Description',
    scopes: 'Scopes',
    exchanges: 'Exchanges',
    none: 'none',
    unavailable: 'The agreements cannot be reached now; scopes and exchanges are missing.',
  },
};

export function registerCatalogue(app: FastifyInstance, o: { catalogue: () => Promise<Catalogue>; assetBase: string }): void {
  app.get(`${CATALOGUE_PATH}.json`, async (_request, reply) => reply.type('application/json').send(await o.catalogue()));
  app.get(CATALOGUE_PATH, async (request, reply) => {
    const lang = languageOf(request, reply);
    const w = WORDS[lang];
    const c = await o.catalogue();
    const list = (xs: string[]) => (xs.length ? xs.map((x, i) => html`${i ? ', ' : ''}<code>${x}</code>`) : w.none);
    const rows = c.entries.map(
      (e) => html`<tr id="${e.id}"><th scope="row">${e.name[lang]}<br><small>${e.kind} · <code>${e.baseUrl}</code></small></th>
<td>${e.standard}</td><td>${e.version}</td><td><a href="${e.description}">${e.kind === 'FHIR' ? 'CapabilityStatement' : e.kind === 'OpenAPI' ? 'OpenAPI 3.1' : 'OpenID configuration'}</a></td>
<td>${list(e.scopes)}</td><td>${list(e.exchanges)}</td></tr>`,
    );
    return sendPage(
      reply,
      page({
        lang,
        portal: 'LDN',
        home: '/',
        title: w.title,
        assetBase: o.assetBase,
        path: CATALOGUE_PATH,
        main: html`<h1>${w.title}</h1>
<p>${w.intro} <a href="${CATALOGUE_PATH}.json">${CATALOGUE_PATH}.json</a></p>
${c.agreementsVersion === undefined ? html`<p role="status">${w.unavailable}</p>` : ''}
<div class="table-wrap"><table>
<thead><tr><th scope="col">${w.name}</th><th scope="col">${w.standard}</th><th scope="col">${w.version}</th><th scope="col">${w.description}</th><th scope="col">${w.scopes}</th><th scope="col">${w.exchanges}</th></tr></thead>
<tbody>${rows}</tbody></table></div>`,
      }),
    );
  });
}
