import assert from 'node:assert/strict';
import { defaultAgreements } from '../trust/agreements/default-agreements.ts';
import { after, before, describe, it } from 'node:test';
import { PartClient } from '../kit/http/client.ts';
import { createService, type RunningService } from '../kit/http/service.ts';
import type { TlsIdentity } from '../kit/part.ts';
import { migrate } from '../kit/store/migrate.ts';
import { openIsolatedPgliteStore } from '../kit/store/pglite.ts';
import { createTestPki, staticNetwork } from '../kit/testing/test-pki.ts';
import { CITIZENS, DE_GROOT } from '../sandbox/cast.ts';
import { TrustTokenProvider } from '../trust/auth/index.ts';
import { stubTrustPart } from '../trust/testing/stub-trust.ts';
import { consentResource, emptyScope } from './fhir.ts';
import { CONSENT_MIGRATIONS } from './migrations.ts';
import { createConsentPart } from './part.ts';
import { HttpConsentOracle } from './pdp/oracle.ts';

const TEST_AGREEMENTS = defaultAgreements();

// The consent part behind real certificate-bound access tokens from a trust-style authorisation
// server: consent:read for the closed question, consent:write (with a professional) on behalf.

const LEIDEN = '90000102';
const VELUWE = '90000101';

describe('consent part with access tokens', () => {
  let as: RunningService;
  let svc: RunningService;
  const clients: PartClient[] = [];
  const tokenClient = (tls: TlsIdentity, ura: string) => {
    const plain = new PartClient({ tls, maxRetries: 0 });
    const c = new PartClient({ tls, maxRetries: 0, tokens: new TrustTokenProvider({ tls, ura, tokenEndpoint: `${as.url}/oauth/token`, client: plain }) });
    clients.push(plain, c);
    return c;
  };
  let leiden: PartClient;
  let veluwe: PartClient;

  before(async () => {
    const pki = await createTestPki();
    const { part: asPart, store: asStore } = await stubTrustPart({
      schema: 'authas',
      // Leiden may read and write consents; Veluwe only read.
      scopesFor: async (c, requested) => requested.filter((s) => s === 'consent:read' || (s === 'consent:write' && c.ura === LEIDEN)),
      verifyUserAssertion: async (assertion, c) => {
        if (assertion !== 'valid-verklaring') throw new Error('bad verklaring');
        return { deziNumber: '900001021', roleCode: '01.030', name: 'L. de Vries', ura: c.ura };
      },
    });
    as = await createService(asPart, { tls: await pki.identity('90000001', { name: 'trust' }), network: staticNetwork({}), store: asStore });
    const store = await openIsolatedPgliteStore('consent');
    await migrate(store, CONSENT_MIGRATIONS);
    svc = await createService(createConsentPart({ agreements: () => TEST_AGREEMENTS, delivery: { intervalMs: 60_000 } }), {
      tls: await pki.identity('90000002', { name: 'consent' }),
      network: staticNetwork({ trust: as.url }),
      store,
    });
    leiden = tokenClient(await pki.identity(LEIDEN), LEIDEN);
    veluwe = tokenClient(await pki.identity(VELUWE), VELUWE);
  });
  after(async () => {
    await svc.close();
    await as.close();
    await svc.store.close();
    await as.store.close();
    for (const c of clients) await c.close();
  });

  it('answers the closed question with a consent:read token and refuses a call without one', async () => {
    const oracle = new HttpConsentOracle(leiden, () => svc.url);
    const q = {
      bsn: DE_GROOT.bsn, holderUra: LEIDEN, holderType: 'V4', requesterUra: VELUWE, requesterType: 'V4',
      requesterRole: '01.045', requesterId: '900001011', purposeOfUse: 'TREAT', eventCode: 'GGC002',
    };
    assert.equal((await oracle.closedQuestion(q)).decision, 'Deny');
    const bare = await leiden.call(`${svc.url}/$closed-question`, { method: 'POST', body: q, headers: { 'content-type': 'application/json' } });
    assert.equal(bare.status, 401);
  });

  it('records on behalf only with consent:write, keeping the professional from the token', async () => {
    const body = consentResource({ ...emptyScope(), bsn: CITIZENS[11].bsn, status: 'active', provision: 'deny' });
    await assert.rejects(veluwe.call(`${svc.url}/Consent`, { method: 'POST', body, scope: 'consent:write' }), /invalid_scope/, 'Veluwe cannot obtain consent:write');
    const withReadToken = await veluwe.call(`${svc.url}/Consent`, { method: 'POST', body, scope: 'consent:read' });
    assert.equal(withReadToken.status, 403);
    const ok = await leiden.call<{ id: string }>(`${svc.url}/Consent`, { method: 'POST', body, scope: 'consent:write', userAssertion: 'valid-verklaring' });
    assert.equal(ok.status, 201, ok.text);
    const [row] = await svc.store.query<{ recorded_by_ura: string; recorded_by_professional: string }>(
      'SELECT recorded_by_ura, recorded_by_professional FROM consent_history WHERE id = $1',
      [ok.body.id],
    );
    assert.deepEqual(row, { recorded_by_ura: LEIDEN, recorded_by_professional: '900001021' });
  });
});
