import { exportJWK, generateKeyPair, type JSONWebKeySet, SignJWT } from 'jose';
import { PERMIT_ALG, PERMIT_TYP, type PermitClaims } from '../../secondary-use/contract.ts';

// Tests only: a stand-in HDAB signing key and permits signed with it, as the HDAB part signs them.

export interface TestHdabKey {
  jwks: JSONWebKeySet;
  sign(claims: Partial<PermitClaims> & { iss: string }, header?: { typ?: string; kid?: string }): Promise<string>;
}

export async function testHdabKey(kid = 'hdab-test-1'): Promise<TestHdabKey> {
  const { publicKey, privateKey } = await generateKeyPair(PERMIT_ALG, { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid, alg: PERMIT_ALG, use: 'sig' };
  return {
    jwks: { keys: [jwk] },
    async sign(claims, header = {}) {
      const now = Math.floor(Date.now() / 1000);
      const body: Record<string, unknown> = {
        jti: `permit-${Math.random().toString(36).slice(2, 10)}`,
        sub: '70000001',
        iat: now,
        nbf: now - 5,
        exp: now + 3600,
        purpose: 'TIA en statinegebruik per leeftijdsgroep',
        legal_basis: 'EHDS art. 53 lid 1 onder e',
        categories: ['Patient', 'Condition', 'MedicationUse'],
        cohort: { conditions: ['266257000'], medications: ['C10AA'] },
        types: ['Patient', 'Condition', 'MedicationStatement'],
        date_precision: 'year',
        min_cell: 10,
        ...claims,
      };
      return new SignJWT(body).setProtectedHeader({ alg: PERMIT_ALG, typ: header.typ ?? PERMIT_TYP, kid: header.kid ?? kid }).sign(privateKey);
    },
  };
}
