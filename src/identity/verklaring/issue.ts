import { randomUUID } from 'node:crypto';
import { importJWK, SignJWT } from 'jose';
import type { Queryable } from '../../kit/store/store.ts';
import { LOA, VERKLARING_JSON_SCHEMA } from '../constants.ts';
import type { RsaKeyPair } from '../keys.ts';
import type { VerklaringClaims } from './claims.ts';
import { recordVerklaring } from './store.ts';

// Issues a verklaring: records it (for status and revocation), then signs it RS256 with the
// verklaring key, naming the key by `kid` and where to find it by `jku`.

export interface Professional {
  deziNumber: string;
  initials: string;
  prefix?: string;
  surname: string;
  roleCode: string;
  roleName: string;
  roleCodeSource: string;
  ura: string;
  organizationName: string;
}

export interface IssueOptions {
  issuer: string;
  /** Absolute URL of the JWKS holding the verklaring key. */
  jku: string;
  /** Absolute URL prefix; the verklaring id is appended. */
  statusBase: string;
  ttlSeconds: number;
  now?: Date;
  /** The OIDC grant this verklaring was issued with (its tokens carry it). */
  grantId?: string;
}

export interface IssuedVerklaring {
  jwt: string;
  claims: VerklaringClaims;
}

export async function issueVerklaring(db: Queryable, key: RsaKeyPair, who: Professional, o: IssueOptions): Promise<IssuedVerklaring> {
  const now = Math.floor((o.now ?? new Date()).getTime() / 1000);
  const verklaringId = randomUUID();
  const claims: VerklaringClaims = {
    jti: randomUUID(),
    iss: o.issuer,
    nbf: now,
    exp: now + o.ttlSeconds,
    json_schema: VERKLARING_JSON_SCHEMA,
    loa_dezi: LOA.high,
    verklaring_id: verklaringId,
    dezi_nummer: who.deziNumber,
    voorletters: who.initials,
    voorvoegsel: who.prefix ?? null,
    achternaam: who.surname,
    abonnee_nummer: who.ura,
    abonnee_naam: who.organizationName,
    rol_code: who.roleCode,
    rol_naam: who.roleName,
    rol_code_bron: who.roleCodeSource,
    status_uri: `${o.statusBase.replace(/\/$/, '')}/${verklaringId}`,
  };
  const jwt = await new SignJWT({ ...claims })
    .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: key.kid, jku: o.jku })
    .sign(await importJWK(key.privateJwk, 'RS256'));
  await recordVerklaring(db, { verklaringId, deziNummer: who.deziNumber, ura: who.ura, expiresAt: new Date(claims.exp * 1000), jwt, grantId: o.grantId });
  return { jwt, claims };
}
