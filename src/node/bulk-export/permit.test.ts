import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { parsePermitClaims, PermitRefused, permitVerifier } from './permit.ts';
import { testHdabKey } from './test-permits.ts';

// The holder checks every permit: signed by the HDAB it knows, typ, issuer, time window, shape.

const HDAB = 'https://hdab.test:9443';

describe('permit verification', async () => {
  const key = await testHdabKey();
  const foreign = await testHdabKey('someone-else');
  const verify = permitVerifier({ issuer: () => HDAB, jwks: async () => key.jwks });
  const refused = (re: RegExp) => (e: unknown) => e instanceof PermitRefused && e.status === 403 && e.code === 'ERR_HDAB_PERMIT_REFUSED' && re.test(e.message);

  it('accepts a permit the HDAB signed and returns its claims', async () => {
    const claims = await verify(await key.sign({ iss: HDAB, jti: 'permit-42' }));
    assert.equal(claims.jti, 'permit-42');
    assert.deepEqual(claims.cohort, { conditions: ['266257000'], medications: ['C10AA'] });
    assert.equal(claims.min_cell, 10);
  });

  it('refuses expired, not-yet-valid, foreign, unsigned, mistyped and other-issuer permits (403)', async () => {
    const now = Math.floor(Date.now() / 1000);
    await assert.rejects(verify(await key.sign({ iss: HDAB, exp: now - 120 })), refused(/expired/));
    await assert.rejects(verify(await key.sign({ iss: HDAB, nbf: now + 3600 })), refused(/nbf/));
    await assert.rejects(verify(await foreign.sign({ iss: HDAB })), refused(/not signed by the HDAB/));
    await assert.rejects(verify(await foreign.sign({ iss: HDAB }, { kid: 'hdab-test-1' })), refused(/not signed by the HDAB/));
    await assert.rejects(verify(await key.sign({ iss: HDAB }, { typ: 'JWT' })), refused(/typ/));
    await assert.rejects(verify(await key.sign({ iss: 'https://other-hdab.test' })), refused(/iss/));
    const [h, p] = (await key.sign({ iss: HDAB })).split('.');
    const none = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'ldn-data-permit+jwt' })).toString('base64url')}.${p}.`;
    await assert.rejects(verify(none), refused(/compact JWS/));
    await assert.rejects(verify(`${h}.${p}.AAAA`), refused(/not signed by the HDAB/));
  });

  it('refuses a permit whose claims are malformed, even when signed', async () => {
    await assert.rejects(verify(await key.sign({ iss: HDAB, types: ['Patient', 'Practitioner'] })), refused(/does not export/));
    await assert.rejects(verify(await key.sign({ iss: HDAB, date_precision: 'day' as 'year' })), refused(/date_precision/));
    await assert.rejects(verify(await key.sign({ iss: HDAB, cohort: { ageMin: 80, ageMax: 40 } })), refused(/ageMin/));
  });

  it('refuses when the HDAB keys cannot be read (deny on error)', async () => {
    const down = permitVerifier({ issuer: () => HDAB, jwks: async () => Promise.reject(new Error('down')) });
    await assert.rejects(down(await key.sign({ iss: HDAB })), refused(/cannot be read/));
  });

  it('never throws anything but PermitRefused, whatever the payload or token (property)', async () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        try {
          parsePermitClaims(v);
        } catch (e) {
          assert.ok(e instanceof PermitRefused);
        }
      }),
      { numRuns: 300 },
    );
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 300 }), async (s) => {
        await verify(s).then(
          () => assert.fail('accepted garbage'),
          (e) => assert.ok(e instanceof PermitRefused),
        );
      }),
      { numRuns: 200 },
    );
  });
});
