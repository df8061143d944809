import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Bundle, OperationOutcome } from '@medplum/fhirtypes';
import { consentResource, emptyScope } from '../../src/consent/fhir.ts';
import { PartClient } from '../../src/kit/http/client.ts';
import { CITIZENS } from '../../src/sandbox/cast.ts';
import type { Sandbox } from '../../src/sandbox/sandbox.ts';
import { TrustTokenProvider } from '../../src/trust/auth/token-provider.ts';
import { apiOverview, clinicianVerklaring, startTestSandbox } from './sandbox-helpers.ts';

// A consent change reaches the holders through the consent part's notifications: every node caches
// consent answers for ten minutes here, so the next decision can only follow the change within 5 s
// because the notification cleared the holder's cache.

const VELUWE = '90000101';
const BAKKER = '900001011'; // emergency physician, Veluwe
const TEN_MINUTES = String(10 * 60_000);

const refusals = (b: Bundle) =>
  (b.entry ?? [])
    .map((e) => e.resource)
    .filter((r): r is OperationOutcome => r?.resourceType === 'OperationOutcome' && r.issue[0]?.code === 'suppressed');

describe('consent change notifications in the sandbox', { timeout: 300_000 }, () => {
  let sandbox: Sandbox;
  let verklaring: string;
  const previous = process.env.LDN_SETTING_CONSENT_CACHE_MS;
  before(async () => {
    process.env.LDN_SETTING_CONSENT_CACHE_MS = TEN_MINUTES;
    sandbox = await startTestSandbox();
    verklaring = await clinicianVerklaring(sandbox, BAKKER);
  });
  after(async () => {
    await sandbox?.stop();
    if (previous === undefined) delete process.env.LDN_SETTING_CONSENT_CACHE_MS;
    else process.env.LDN_SETTING_CONSENT_CACHE_MS = previous;
  });

  it('a consent recorded on the citizen\'s behalf is honoured by the holders within 5 s despite a ten-minute cache', async () => {
    const patient = CITIZENS.find((_c, i) => i >= 4 && i % 2 === 0)!; // no consent recorded in the seed
    const first = await apiOverview(sandbox, { ura: VELUWE, verklaring, bsn: patient.bsn });
    assert.equal(first.status, 200, JSON.stringify(first.body).slice(0, 500));
    const refusedBy = refusals(first.body).length;
    assert.ok(refusedBy > 0, 'opt-in and no consent: the holders refuse');
    // The holders have answered and subscribed; their answers are now cached for ten minutes.
    await new Promise((r) => setTimeout(r, 1500));
    const cached = await apiOverview(sandbox, { ura: VELUWE, verklaring, bsn: patient.bsn });
    assert.equal(refusals(cached.body).length, refusedBy);

    // The emergency physician records the patient's consent on his behalf at the consent part.
    const identity = sandbox.identities.participants.get(VELUWE)!;
    const tokens = new TrustTokenProvider({ tls: identity, ura: VELUWE, tokenEndpoint: `${sandbox.network.url('trust')}/oauth/token` });
    const client = new PartClient({ tls: identity, tokens, maxRetries: 0 });
    try {
      const consentUrl = sandbox.network.url('consent');
      const written = await client.call(`${consentUrl}/Consent`, {
        method: 'POST',
        body: consentResource({ ...emptyScope(), bsn: patient.bsn, status: 'active', provision: 'permit' }),
        scope: 'consent:write',
        resource: consentUrl,
        userAssertion: verklaring,
      });
      assert.equal(written.status, 201, written.text);
    } finally {
      await client.close();
      await tokens.close?.();
    }

    // Poll: each overview asked here starts within 5 s of the change.
    const t0 = Date.now();
    let latest = cached;
    while (refusals(latest.body).length > 0 && Date.now() - t0 < 4800) {
      await new Promise((r) => setTimeout(r, 200));
      latest = await apiOverview(sandbox, { ura: VELUWE, verklaring, bsn: patient.bsn });
    }
    assert.deepEqual(
      refusals(latest.body).map((o) => o.issue[0].diagnostics),
      [],
      `still refused ${Date.now() - t0} ms after the change`,
    );
  });
});
