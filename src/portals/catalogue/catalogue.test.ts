import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import Fastify from 'fastify';
import { defaultAgreements } from '../../trust/agreements/default-agreements.ts';
import { buildCatalogue } from './index.ts';
import { registerCatalogue } from './routes.ts';

// The API catalogue from a network view and the agreements: every part's interfaces with their
// self-descriptions, scopes from the agreements, the exchanges; one page in Dutch and English
// and one JSON index with the same entries.

const parts = ['trust', 'directory', 'prs', 'nvi', 'consent', 'transparency', 'identity', 'citizen-identity'].map((name) => ({ name, url: `https://${name}.test` }));
const nodes = [{ name: 'zuid', url: 'https://zuid.test' }];

describe('API catalogue', () => {
  it('lists every interface with its description, scopes and exchanges', () => {
    const c = buildCatalogue({ parts, nodes, agreements: defaultAgreements() });
    const byId = new Map(c.entries.map((e) => [e.id, e]));
    assert.equal(byId.get('directory-fhir')?.description, 'https://directory.test/metadata');
    assert.equal(byId.get('prs-api')?.description, 'https://prs.test/openapi.json');
    assert.equal(byId.get('consent-closed-question')?.kind, 'OpenAPI');
    assert.deepEqual(byId.get('prs-api')?.scopes, ['prs:eval']);
    assert.ok(byId.get('node-zuid-fhir')?.scopes.includes('acute-zorg'));
    assert.ok(byId.get('nvi-fhir')?.exchanges.includes('bgz'));
    assert.deepEqual(byId.get('citizen-identity-oidc')?.exchanges, ['citizen-access']);
    for (const p of parts) assert.ok(c.entries.some((e) => e.part === p.name), p.name);
    assert.equal(c.agreementsVersion, defaultAgreements().version);
  });

  it('lists each organisation the directory knows by its real FHIR base, the {URA} pattern only for a node without any', () => {
    const c = buildCatalogue({
      parts,
      nodes: [...nodes, { name: 'leiden', url: 'https://leiden.test' }],
      agreements: defaultAgreements(),
      tenants: [
        { ura: '90000105', name: 'Thuiszorg Limburg', fhirBase: 'https://zuid.test/org/90000105/fhir' },
        { ura: '90000103', name: 'Huisartsenpraktijk Kerkrade', fhirBase: 'https://zuid.test/org/90000103/fhir' },
        // Another node's organisation is not listed under this one.
        { ura: '90000101', name: 'Ziekenhuis Veluwe', fhirBase: 'https://veluwe.test/org/90000101/fhir' },
      ],
    });
    const zuid = c.entries.filter((e) => e.part === 'node' && e.kind === 'FHIR' && e.baseUrl.startsWith('https://zuid.test'));
    assert.deepEqual(zuid.map((e) => e.baseUrl), ['https://zuid.test/org/90000103/fhir', 'https://zuid.test/org/90000105/fhir']);
    assert.equal(zuid[1].description, 'https://zuid.test/org/90000105/fhir/metadata');
    assert.match(zuid[1].name.nl, /Thuiszorg Limburg/);
    assert.ok(zuid.every((e) => e.scopes.includes('acute-zorg')));
    assert.ok(!c.entries.some((e) => e.baseUrl.includes('{URA}') && e.baseUrl.startsWith('https://zuid.test')));
    assert.equal(c.entries.find((e) => e.id === 'node-leiden-fhir')?.baseUrl, 'https://leiden.test/org/{URA}/fhir');
  });

  it('serves the page in Dutch and English and the JSON index', async () => {
    const app = Fastify();
    const catalogue = buildCatalogue({ parts, nodes, agreements: defaultAgreements() });
    registerCatalogue(app, { assetBase: '/assets', catalogue: async () => catalogue });
    const nl = await app.inject({ url: '/apis' });
    assert.equal(nl.statusCode, 200);
    assert.match(nl.body, /<html lang="nl">/);
    assert.match(nl.body, /API-bibliotheek/);
    assert.match(nl.body, /Pseudoniemendienst/);
    const en = await app.inject({ url: '/apis?lang=en' });
    assert.match(en.body, /API catalogue/);
    assert.match(en.body, /Pseudonym service/);
    assert.match(en.body, /href="https:\/\/prs.test\/openapi.json"/);
    const json = await app.inject({ url: '/apis.json' });
    assert.deepEqual(JSON.parse(json.body).entries.map((e: { id: string }) => e.id), catalogue.entries.map((e) => e.id));
    const without = buildCatalogue({ parts, nodes });
    assert.equal(without.agreementsVersion, undefined);
    assert.deepEqual(without.entries.find((e) => e.id === 'prs-api')?.scopes, []);
    await app.close();
  });
});
