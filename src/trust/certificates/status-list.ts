import { CompactSign, compactVerify, type JWTVerifyGetKey } from 'jose';
import type { KeyObject } from 'node:crypto';
import { certificateRefusal } from '../../kit/http/certificate-status.ts';
import type { Queryable } from '../../kit/store/store.ts';
import type { SigningKey } from '../auth/keys.ts';
import { revokedThumbprints } from './lifecycle.ts';

// The signed status list: every participant's and vendor's status and every revoked, unexpired
// certificate, as one JWS any part can verify with the trust JWKS. Parts decide on a peer from
// their cached copy, so a revocation reaches everyone within the cache's maximum age.

export const STATUS_LIST_TYPE = 'ldn-status-list+jwt';

export interface StatusList {
  iss: string;
  /** Seconds since the epoch when the list was made. */
  iat: number;
  participants: Record<string, string>;
  vendors: Record<string, string>;
  revoked: string[];
}

export async function buildStatusList(db: Queryable, issuer: string): Promise<StatusList> {
  const participants = await db.query<{ ura: string; status: string }>('SELECT ura, status FROM participants ORDER BY ura');
  const vendors = await db.query<{ kvk: string; status: string }>('SELECT kvk, status FROM vendors ORDER BY kvk');
  return {
    iss: issuer,
    iat: Math.floor(Date.now() / 1000),
    participants: Object.fromEntries(participants.map((p) => [p.ura, p.status])),
    vendors: Object.fromEntries(vendors.map((v) => [v.kvk, v.status])),
    revoked: await revokedThumbprints(db),
  };
}

export function signStatusList(list: StatusList, key: SigningKey): Promise<string> {
  return new CompactSign(new TextEncoder().encode(JSON.stringify(list)))
    .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: STATUS_LIST_TYPE })
    .sign(key.privateKey);
}

export async function verifyStatusList(jws: string, keys: JWTVerifyGetKey | KeyObject, issuer: string): Promise<StatusList> {
  const { payload, protectedHeader } = await compactVerify(jws, keys as JWTVerifyGetKey, { algorithms: ['ES256'] });
  if (protectedHeader.typ !== STATUS_LIST_TYPE) throw new Error('not a status list');
  const list = JSON.parse(new TextDecoder().decode(payload)) as StatusList;
  if (list.iss !== issuer) throw new Error(`status list issued by ${list.iss}, expected ${issuer}`);
  if (typeof list.iat !== 'number' || !list.participants || !list.vendors || !Array.isArray(list.revoked)) throw new Error('malformed status list');
  return list;
}

/** Why this peer must be refused according to the list, or null (the kit's one check). */
export const refusalFor = certificateRefusal;
