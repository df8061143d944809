import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Bundle, List, OperationOutcome } from '@medplum/fhirtypes';
import { PartClient } from '../kit/http/client.ts';
import { CODE_SYSTEM, EXTENSION, SYSTEM } from '../kit/identifiers/systems.ts';
import { testBsn } from '../kit/identifiers/bsn.ts';
import { PrsClient } from '../pseudonyms/client.ts';
import { InvalidBsnError } from '../pseudonyms/input.ts';
import { CITIZENS } from '../sandbox/cast.ts';
import { startTestNetwork, type TestNetwork } from './test-network.ts';

// Localisation end to end over mutual TLS with real access tokens: holders register through the
// PRS and the NVI, a clinician's node localises De Groot's data holders.

const DE_GROOT = CITIZENS[0].bsn;
const VELUWE = '90000101';
const LEIDEN = '90000102';
const GP = '90000103';
const PHARMACY = '90000104';

describe('localisation over the network (PRS + NVI + registration client)', () => {
  let net: TestNetwork;
  let parts: Record<string, Awaited<ReturnType<TestNetwork['participant']>>>;

  before(async () => {
    net = await startTestNetwork();
    parts = {};
    for (const ura of [VELUWE, LEIDEN, GP, PHARMACY]) parts[ura] = await net.participant(ura);
  });
  after(async () => net.close());

  it('holders register De Groot, idempotently, and the emergency department localises him', async () => {
    await parts[PHARMACY].referrals.register(DE_GROOT, ['MedicationUse']);
    await parts[GP].referrals.register(DE_GROOT, ['MedicationUse', 'Condition']);
    await parts[LEIDEN].referrals.register(DE_GROOT, ['AllergyIntolerance', 'Imaging']);
    await parts[LEIDEN].referrals.register(DE_GROOT, ['AllergyIntolerance']); // again: harmless
    const holders = await parts[VELUWE].referrals.localise(DE_GROOT, { exchange: 'acute-zorg' });
    assert.deepEqual(holders, [
      { ura: LEIDEN, categories: ['AllergyIntolerance'] }, // Imaging is not part of acute care
      { ura: GP, categories: ['Condition', 'MedicationUse'] },
      { ura: PHARMACY, categories: ['MedicationUse'] },
    ]);
    const imaging = await parts[VELUWE].referrals.localise(DE_GROOT, { exchange: 'beeldbeschikbaarheid' });
    assert.deepEqual(imaging, [{ ura: LEIDEN, categories: ['Imaging'] }]);
    assert.deepEqual(await parts[VELUWE].referrals.localise(testBsn(424242), { exchange: 'acute-zorg' }), []);
  });

  it('withdrawal removes only the holder\'s own referral and is idempotent', async () => {
    const bsn = testBsn(8888);
    await parts[GP].referrals.register(bsn, ['Condition']);
    await parts[PHARMACY].referrals.register(bsn, ['MedicationUse']);
    await parts[GP].referrals.withdraw(bsn);
    await parts[GP].referrals.withdraw(bsn);
    assert.deepEqual(await parts[VELUWE].referrals.localise(bsn, { exchange: 'acute-zorg' }), [{ ura: PHARMACY, categories: ['MedicationUse'] }]);
  });

  it('refuses an invalid BSN at the client', async () => {
    await assert.rejects(parts[GP].referrals.register('123456789', ['Condition']), InvalidBsnError);
  });

  it('answers a search with a plain BSN with 400 without repeating it', async () => {
    const r = await parts[VELUWE].client.call<OperationOutcome>(`${net.nvi.url}/List?subject:identifier=${encodeURIComponent(`${SYSTEM.bsn}|${DE_GROOT}`)}`, {
      scope: 'nvi:read', headers: { 'x-ldn-exchange': 'acute-zorg' },
    });
    assert.equal(r.status, 400);
    assert.equal(r.text.includes(DE_GROOT), false);
    const bare = await parts[VELUWE].client.call(`${net.nvi.url}/List?subject:identifier=${DE_GROOT}`, { scope: 'nvi:read', headers: { 'x-ldn-exchange': 'acute-zorg' } });
    assert.equal(bare.status, 400);
    assert.equal(bare.text.includes(DE_GROOT), false);
  });

  it('refuses registering for another custodian (403) and profile breaks (422)', async () => {
    const prs = new PrsClient(parts[GP].client, net.prs.url);
    const token = await prs.pseudonymise(testBsn(31), `ura:${'90000001'}`, 'nationale-verwijsindex');
    const list = (custodian: string, extra: Partial<List> = {}): List => ({
      resourceType: 'List',
      extension: [{ url: EXTENSION.localizationCustodian, valueReference: { identifier: { system: SYSTEM.ura, value: custodian } } }],
      status: 'current',
      mode: 'working',
      code: { coding: [{ system: CODE_SYSTEM.dataCategories, code: 'Condition' }] },
      subject: { identifier: { system: SYSTEM.nviIdentifier, value: token } },
      source: { identifier: { system: SYSTEM.oauthClientId, value: 'ehr' } },
      emptyReason: { coding: [{ system: CODE_SYSTEM.listEmptyReason, code: 'withheld' }] },
      ...extra,
    });
    const post = (body: unknown) => parts[GP].client.call<OperationOutcome>(`${net.nvi.url}/List`, { method: 'POST', body, scope: 'nvi:write' });
    assert.equal((await post(list(LEIDEN))).status, 403);
    const broken = await post(list(GP, { status: 'retired', title: 'no', subject: { reference: 'Patient/1' } }));
    assert.equal(broken.status, 422);
    assert.ok(broken.body.issue.length >= 3);
    assert.equal((await post(list(GP, { code: { coding: [{ system: CODE_SYSTEM.dataCategories, code: 'CareServiceEntities' }] } }))).status, 422);
    const created = await post(list(GP));
    assert.equal(created.status, 201);
    assert.equal((created.body as unknown as List).subject, undefined);
  });

  it('refuses a pseudonym token addressed to another recipient (expiry: see pseudonyms.test.ts)', async () => {
    // Leiden registers its own JWE key at the PRS, so the PRS will produce tokens for it.
    const { generateKeyPair, exportJWK } = await import('jose');
    const leidenKey = await generateKeyPair('RSA-OAEP-256', { extractable: true });
    const leidenPrs = new PrsClient(parts[LEIDEN].client, net.prs.url);
    await leidenPrs.registerRecipientKey(LEIDEN, 'nationale-verwijsindex', await exportJWK(leidenKey.publicKey));
    // Registering a key for someone else is refused.
    await assert.rejects(leidenPrs.registerRecipientKey(GP, 'nationale-verwijsindex', await exportJWK(leidenKey.publicKey)), /403/);
    const prs = new PrsClient(parts[GP].client, net.prs.url);
    const forLeiden = await prs.pseudonymise(testBsn(32), `ura:${LEIDEN}`, 'nationale-verwijsindex');
    const search = await parts[VELUWE].client.call<OperationOutcome>(`${net.nvi.url}/List?subject:identifier=${encodeURIComponent(forLeiden)}`, {
      scope: 'nvi:read', headers: { 'x-ldn-exchange': 'acute-zorg' },
    });
    assert.equal(search.status, 400);
    const registration = await parts[GP].client.call(`${net.nvi.url}/`, {
      method: 'POST', scope: 'nvi:write',
      body: { resourceType: 'Bundle', type: 'transaction', entry: [{ request: { method: 'DELETE', url: `List?subject:identifier=${encodeURIComponent(forLeiden)}` } }] },
    });
    assert.equal(registration.status, 422);
    await assert.rejects(prs.pseudonymise(testBsn(32), 'ura:90000199', 'nationale-verwijsindex'), /404/);
  });

  it('refuses calls without an access token, and lookups without an exchange', async () => {
    const noTokens = new PartClient({ tls: parts[VELUWE].tls, maxRetries: 0 });
    try {
      const r = await noTokens.call(`${net.nvi.url}/List?source:identifier=x`);
      assert.equal(r.status, 401);
      const e = await noTokens.call(`${net.prs.url}/oprf/eval`, { method: 'POST', body: {} });
      assert.equal(e.status, 401);
    } finally {
      await noTokens.close();
    }
    const prs = new PrsClient(parts[VELUWE].client, net.prs.url);
    const token = await prs.pseudonymise(DE_GROOT, 'ura:90000001', 'nationale-verwijsindex');
    const r = await parts[VELUWE].client.call(`${net.nvi.url}/List?subject:identifier=${encodeURIComponent(token)}`, { scope: 'nvi:read' });
    assert.equal(r.status, 403);
  });

  it('a named exchange counts only when the register says the caller may request in it', async () => {
    const bsn = testBsn(7373);
    await parts[LEIDEN].referrals.register(bsn, ['AllergyIntolerance', 'Imaging', 'Procedure']);
    const lookup = async (ura: string, exchange: string) => {
      const token = await new PrsClient(parts[ura].client, net.prs.url).pseudonymise(bsn, 'ura:90000001', 'nationale-verwijsindex');
      return parts[ura].client.call<Bundle<List>>(`${net.nvi.url}/List?subject:identifier=${encodeURIComponent(token)}`, { scope: 'nvi:read', headers: { 'x-ldn-exchange': exchange } });
    };
    // The pharmacy (J8) holds no bgz qualification: naming the broadest exchange reveals nothing.
    assert.equal((await lookup(PHARMACY, 'bgz')).status, 403);
    // It is qualified for acute care (as a holder), but J8 is not among its requester types.
    assert.equal((await lookup(PHARMACY, 'acute-zorg')).status, 403);
    assert.equal((await lookup(PHARMACY, 'no-such-exchange')).status, 403);
    // The hospital may request in bgz: Procedure comes back, Imaging (not in bgz) does not.
    const bgz = await lookup(VELUWE, 'bgz');
    assert.equal(bgz.status, 200);
    assert.deepEqual(bgz.body.entry?.map((e) => e.resource?.code?.coding?.[0]?.code).sort(), ['AllergyIntolerance', 'Procedure']);
    // An exchange scope in the token (granted by the AS) needs no header.
    const token = await new PrsClient(parts[VELUWE].client, net.prs.url).pseudonymise(bsn, 'ura:90000001', 'nationale-verwijsindex');
    const scoped = await parts[VELUWE].client.call<Bundle<List>>(`${net.nvi.url}/List?subject:identifier=${encodeURIComponent(token)}`, { scope: 'nvi:read beeldbeschikbaarheid' });
    assert.equal(scoped.status, 200);
    assert.deepEqual(scoped.body.entry?.map((e) => e.resource?.code?.coding?.[0]?.code), ['Imaging']);
  });

  it('lists a holder\'s own registrations by source and lets only the custodian delete', async () => {
    const bsn = testBsn(9191);
    await parts[PHARMACY].referrals.register(bsn, ['MedicationRequest']);
    const own = await parts[PHARMACY].client.json<Bundle<List>>(`${net.nvi.url}/List?source:identifier=${encodeURIComponent(`${SYSTEM.oauthClientId}|ehr-${PHARMACY}`)}`, { scope: 'nvi:read' });
    const id = own.entry?.find((e) => e.resource?.code?.coding?.[0]?.code === 'MedicationRequest')?.resource?.id;
    assert.ok(id);
    const theirs = await parts[GP].client.json<Bundle<List>>(`${net.nvi.url}/List?source:identifier=${encodeURIComponent(`${SYSTEM.oauthClientId}|ehr-${PHARMACY}`)}`, { scope: 'nvi:read' });
    assert.equal(theirs.entry?.length ?? 0, 0);
    assert.equal((await parts[GP].client.call(`${net.nvi.url}/List/${id}`, { method: 'DELETE', scope: 'nvi:write' })).status, 403);
    assert.equal((await parts[PHARMACY].client.call(`${net.nvi.url}/List/${id}`, { method: 'DELETE', scope: 'nvi:write' })).status, 204);
  });
});
