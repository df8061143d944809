import { badRequest } from '../../kit/fhir/outcome.ts';
import type { Queryable } from '../../kit/store/store.ts';

// The operator's list of issued certificates (GET [trust]/certificates): newest first, paged,
// filtered by holder (URA) and status. "expired" is a valid certificate past its notAfter.

export type CertificateListStatus = 'valid' | 'revoked' | 'expired';

export interface CertificateListQuery {
  ura?: string;
  status?: CertificateListStatus;
  count: number;
  offset: number;
}

export interface CertificateListItem {
  serial: string;
  ura: string | null;
  kvk: string | null;
  systemNumber: string;
  status: 'valid' | 'revoked';
  notBefore: string;
  notAfter: string;
  issuedAt: string;
  revokedAt: string | null;
}

export const MAX_CERTIFICATE_PAGE = 200;

const one = (v: unknown): string | undefined => (Array.isArray(v) ? undefined : typeof v === 'string' ? v : undefined);

/** The query string as a list query; 400 for anything unexpected (never a silent default for a bad value). */
export function parseCertificateListQuery(q: Record<string, unknown>): CertificateListQuery {
  const allowed = new Set(['ura', 'status', '_count', '_offset']);
  for (const k of Object.keys(q)) if (!allowed.has(k)) throw badRequest(`unknown parameter ${k}`);
  for (const k of Object.keys(q)) if (one(q[k]) === undefined) throw badRequest(`${k} must be given once`);
  const ura = one(q.ura);
  if (ura !== undefined && !/^\d{8}$/.test(ura)) throw badRequest('ura must be 8 digits');
  const status = one(q.status);
  if (status !== undefined && !['valid', 'revoked', 'expired'].includes(status)) throw badRequest('status must be valid, revoked or expired');
  const int = (name: string, raw: string | undefined, fallback: number, min: number, max: number) => {
    if (raw === undefined) return fallback;
    if (!/^\d{1,6}$/.test(raw) || Number(raw) < min || Number(raw) > max) throw badRequest(`${name} must be a whole number from ${min} to ${max}`);
    return Number(raw);
  };
  return {
    ura,
    status: status as CertificateListStatus | undefined,
    count: int('_count', one(q._count), 50, 1, MAX_CERTIFICATE_PAGE),
    offset: int('_offset', one(q._offset), 0, 0, 999_999),
  };
}

const iso = (v: unknown): string => new Date(v instanceof Date ? v.toISOString() : String(v)).toISOString();

export async function listCertificates(db: Queryable, q: CertificateListQuery, now = new Date()): Promise<{ total: number; certificates: CertificateListItem[] }> {
  const where: string[] = [];
  const params: unknown[] = [];
  if (q.ura) {
    params.push(q.ura);
    where.push(`ura = $${params.length}`);
  }
  if (q.status === 'revoked') where.push(`status = 'revoked'`);
  else if (q.status) {
    params.push(now.toISOString());
    where.push(`status = 'valid' AND not_after ${q.status === 'expired' ? '<' : '>='} $${params.length}`);
  }
  const clause = where.length ? `WHERE ${where.join(' AND ')}` : '';
  const [{ total }] = await db.query<{ total: number | string }>(`SELECT count(*) AS total FROM certificates ${clause}`, params);
  const rows = await db.query<Record<string, unknown>>(
    `SELECT serial, ura, kvk, system_number, status, not_before, not_after, issued_at, revoked_at FROM certificates ${clause}
     ORDER BY issued_at DESC, serial LIMIT $${params.length + 1} OFFSET $${params.length + 2}`,
    [...params, q.count, q.offset],
  );
  return {
    total: Number(total),
    certificates: rows.map((r) => ({
      serial: String(r.serial),
      ura: (r.ura as string | null) ?? null,
      kvk: (r.kvk as string | null) ?? null,
      systemNumber: String(r.system_number ?? ''),
      status: r.status as 'valid' | 'revoked',
      notBefore: iso(r.not_before),
      notAfter: iso(r.not_after),
      issuedAt: iso(r.issued_at),
      revokedAt: r.revoked_at ? iso(r.revoked_at) : null,
    })),
  };
}
