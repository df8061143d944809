import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { HttpError } from '../kit/fhir/outcome.ts';
import { testHdabKey } from '../node/bulk-export/test-permits.ts';
import { permitVerifier } from '../secondary-use/contract.ts';
import { type RegisterParticipant, researchPermitGate } from './research-permit.ts';

// The PRS's rule before a research evaluation: a permit the HDAB signed, not expired, asked by a holder.

const HDAB_URL = 'https://hdab.test';

describe('research permit gate (PRS)', async () => {
  const key = await testHdabKey();
  const register = new Map<string, RegisterParticipant>([
    ['90000301', { ura: '90000301', status: 'admitted', organizationType: 'Z3', qualifications: [{ qualification: 'localization' }] }],
    ['90000302', { ura: '90000302', status: 'suspended', organizationType: 'Z3', qualifications: [{ qualification: 'localization' }] }],
    ['90000303', { ura: '90000303', status: 'admitted', organizationType: 'Z3', qualifications: [] }],
    ['90000304', { ura: '90000304', status: 'admitted', organizationType: 'Z3', qualifications: [{ qualification: 'localization', validUntil: '2020-01-01T00:00:00Z' }] }],
    ['90000950', { ura: '90000950', status: 'admitted', organizationType: 'HDAB', qualifications: [{ qualification: 'localization' }] }],
    ['90000960', { ura: '90000960', status: 'admitted', organizationType: 'RSCH', qualifications: [{ qualification: 'localization' }] }],
    ['90000001', { ura: '90000001', status: 'admitted', organizationType: 'NB', qualifications: [{ qualification: 'localization' }] }],
  ]);
  let registerDown = false;
  const gate = researchPermitGate({
    verify: permitVerifier({ issuer: () => HDAB_URL, jwks: async () => key.jwks }),
    participant: async (ura) => {
      if (registerDown) throw new Error('down');
      return register.get(ura) ?? null;
    },
  });
  const refused = (re: RegExp) => (e: HttpError) => e.status === 403 && re.test(JSON.stringify(e.outcome));

  it('gives a holder the verified permit (its jti is the domain)', async () => {
    const claims = await gate(await key.sign({ iss: HDAB_URL, jti: 'permit-x' }), '90000301');
    assert.equal(claims.jti, 'permit-x');
  });

  it('refuses expired, foreign-issuer and unsigned permits', async () => {
    const now = Math.floor(Date.now() / 1000);
    await assert.rejects(gate(await key.sign({ iss: HDAB_URL, exp: now - 60 }), '90000301'), refused(/expired/));
    await assert.rejects(gate(await key.sign({ iss: 'https://other-hdab.test' }), '90000301'), refused(/iss/));
    await assert.rejects(gate('permit-x', '90000301'), refused(/compact JWS/));
    const foreign = await (await testHdabKey('elsewhere')).sign({ iss: HDAB_URL });
    await assert.rejects(gate(foreign, '90000301'), refused(/not signed by the HDAB/));
  });

  it('refuses callers that are not holders: suspended, unqualified, lapsed, HDAB, research organisation, operator, unknown, none', async () => {
    const permit = await key.sign({ iss: HDAB_URL, sub: '90000960' });
    for (const ura of ['90000302', '90000303', '90000304', '90000950', '90000960', '90000001', '99999999', undefined]) {
      await assert.rejects(gate(permit, ura), refused(/no research pseudonyms/), String(ura));
    }
  });

  it('denies when the trust register cannot answer', async () => {
    registerDown = true;
    try {
      await assert.rejects(gate(await key.sign({ iss: HDAB_URL }), '90000301'), refused(/deny on error/));
    } finally {
      registerDown = false;
    }
  });
});
