import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import fc from 'fast-check';
import { castProfessionalDirectory } from '../../sandbox/people.ts';
import { loadOrCreateRsaKey, publicJwks, type RsaKeyPair } from '../keys.ts';
import type { Queryable } from '../../kit/store/store.ts';
import { escapeHtml, pickLang } from '../login-page.ts';
import { issueVerklaring } from './issue.ts';
import { VerklaringError, verifyVerklaring } from './verify.ts';

// Property tests for the verifier as a decoder of untrusted input: it only ever refuses with a
// VerklaringError, and any change to a signed verklaring is refused.

const ISSUER = 'https://identity.test';
/** In-memory stand-in for the two tables issueVerklaring and the key loader touch. */
function memoryDb(): Queryable {
  const keys = new Map<string, unknown>();
  return {
    async query<T>(sql: string, params: readonly unknown[] = []): Promise<T[]> {
      if (sql.startsWith('SELECT material')) return (keys.has(String(params[0])) ? [{ material: keys.get(String(params[0])) }] : []) as T[];
      if (sql.startsWith('INSERT INTO identity_keys')) keys.set(String(params[0]), JSON.parse(String(params[1])));
      return [] as T[];
    },
  };
}

describe('verifyVerklaring on untrusted input', () => {
  let key: RsaKeyPair;
  let jwt: string;
  before(async () => {
    const db = memoryDb();
    key = await loadOrCreateRsaKey(db, 'verklaring');
    const who = await castProfessionalDirectory().find('900001012');
    assert.ok(who);
    ({ jwt } = await issueVerklaring(db, key, who, { issuer: ISSUER, jku: `${ISSUER}/dezi/jwks.json`, statusBase: `${ISSUER}/status`, ttlSeconds: 600 }));
  });

  it('accepts the untouched verklaring (with voorvoegsel)', async () => {
    const claims = await verifyVerklaring(jwt, { issuer: ISSUER, jwks: publicJwks(key), expectedUra: '90000101' });
    assert.equal(claims.voorvoegsel, 'van');
  });

  it('refuses any string with a VerklaringError, never another error', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.string(), fc.base64String(), fc.tuple(fc.base64String(), fc.base64String(), fc.base64String()).map((p) => p.join('.'))), async (input) => {
        await assert.rejects(verifyVerklaring(input, { issuer: ISSUER, jwks: publicJwks(key) }), VerklaringError);
      }),
      { numRuns: 200 },
    );
  });

  it('refuses a verklaring with any claim changed', async () => {
    const [h, p, s] = jwt.split('.');
    const payload = JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>;
    const names = Object.keys(payload);
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...names), fc.oneof(fc.string(), fc.integer(), fc.constant(null)), async (name, value) => {
        fc.pre(payload[name] !== value);
        const tampered = `${h}.${Buffer.from(JSON.stringify({ ...payload, [name]: value })).toString('base64url')}.${s}`;
        await assert.rejects(verifyVerklaring(tampered, { issuer: ISSUER, jwks: publicJwks(key) }), VerklaringError);
      }),
      { numRuns: 100 },
    );
  });

  it('refuses a jku other than the trusted key set URL before fetching anything', async () => {
    await assert.rejects(
      verifyVerklaring(jwt, { issuer: ISSUER, jwks: 'https://attacker.test/jwks.json' }),
      (e: VerklaringError) => e.reason === 'bad-signature' && /jku/.test(e.message),
    );
  });
});

describe('login page helpers', () => {
  it('escapeHtml leaves no markup characters', () => {
    fc.assert(fc.property(fc.string(), (s) => !/[<>"']/.test(escapeHtml(s))));
  });
  it('pickLang is Dutch unless English is asked for first', () => {
    assert.equal(pickLang(undefined, ''), 'nl');
    assert.equal(pickLang('en-GB nl'), 'en');
    assert.equal(pickLang('de', 'en'), 'en');
    fc.assert(fc.property(fc.string(), (s) => ['nl', 'en'].includes(pickLang(s))));
  });
});
