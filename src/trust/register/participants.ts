import { badRequest, conflict, notFound, unprocessable } from '../../kit/fhir/outcome.ts';
import { qualifiedAt } from '../../kit/rules/qualification.ts';
import type { Queryable, Store } from '../../kit/store/store.ts';
import { currentAgreements } from '../agreements/store.ts';
import type { AgreementsDocument } from '../agreements/types.ts';

// The participant register as plain functions over the trust store. Status changes follow a
// small state machine and every change is written to the history in the same transaction.

// The register's wire types are the trust part's contract (what other parts may use of it).
import { type Address, PARTICIPANT_STATUSES, type Participant, type ParticipantInput, type ParticipantStatus, type StatusChange, type Vendor } from '../contract.ts';
export type { Address, Participant, ParticipantInput, ParticipantStatus, Qualification, StatusChange, Vendor } from '../contract.ts';

const TRANSITIONS: Record<ParticipantStatus, ParticipantStatus[]> = {
  applied: ['admitted', 'revoked'],
  admitted: ['suspended', 'revoked'],
  suspended: ['admitted', 'revoked'],
  revoked: [],
};

export const STATUSES = PARTICIPANT_STATUSES;

const iso = (v: unknown): string => (v instanceof Date ? v.toISOString() : new Date(String(v)).toISOString());

function checkUra(ura: string): void {
  if (!/^\d{8}$/.test(ura)) throw badRequest(`URA must be 8 digits: ${ura}`);
}
function checkKvk(kvk: string): void {
  if (!/^\d{8}$/.test(kvk)) throw badRequest(`KvK must be 8 digits: ${kvk}`);
}

/** Registers an organisation (status applied), or returns it unchanged when it is known. */
export async function registerParticipant(store: Store, input: ParticipantInput, actor: string): Promise<Participant> {
  checkUra(input.ura);
  if (!input.name?.trim()) throw badRequest('name is required');
  if (!/^[A-Z0-9]{1,4}$/.test(input.organizationType ?? '')) throw badRequest('organizationType must be a Vektis organisation-type code');
  await store.transaction(async (tx) => {
    const rows = await tx.query(
      `INSERT INTO participants (ura, name, organization_type, agb, address, status) VALUES ($1, $2, $3, $4, $5, 'applied')
       ON CONFLICT (ura) DO NOTHING RETURNING ura`,
      [input.ura, input.name.trim(), input.organizationType, input.agb ?? null, JSON.stringify(input.address ?? {})],
    );
    if (rows.length) await history(tx, 'participant', input.ura, 'applied', 'registered', actor);
  });
  return getParticipant(store, input.ura);
}

async function history(tx: Queryable, kind: 'participant' | 'vendor', subject: string, status: string, reason: string, actor: string) {
  await tx.query('INSERT INTO status_history (subject_kind, subject, status, reason, actor) VALUES ($1, $2, $3, $4, $5)', [
    kind,
    subject,
    status,
    reason,
    actor,
  ]);
}

async function changeStatus(store: Store, kind: 'participant' | 'vendor', key: string, to: ParticipantStatus, reason: string, actor: string) {
  if (!STATUSES.includes(to)) throw badRequest(`status must be one of ${STATUSES.join(', ')}`);
  const table = kind === 'participant' ? 'participants' : 'vendors';
  const column = kind === 'participant' ? 'ura' : 'kvk';
  await store.transaction(async (tx) => {
    const rows = await tx.query<{ status: ParticipantStatus }>(`SELECT status FROM ${table} WHERE ${column} = $1 FOR UPDATE`, [key]);
    if (!rows.length) throw notFound(`no ${kind} ${key}`);
    const from = rows[0].status;
    if (!TRANSITIONS[from].includes(to)) throw conflict(`${kind} ${key} is ${from}; it cannot become ${to}`);
    await tx.query(`UPDATE ${table} SET status = $2, status_changed_at = now() WHERE ${column} = $1`, [key, to]);
    await history(tx, kind, key, to, reason, actor);
    // A revoked holder keeps no valid certificate.
    if (to === 'revoked') {
      await tx.query(
        `UPDATE certificates SET status = 'revoked', revoked_at = now(), revocation_reason = 'holder revoked' WHERE ${column} = $1 AND status = 'valid'`,
        [key],
      );
    }
  });
}

export async function setParticipantStatus(store: Store, ura: string, to: ParticipantStatus, reason: string, actor: string): Promise<Participant> {
  await changeStatus(store, 'participant', ura, to, reason, actor);
  return getParticipant(store, ura);
}

export async function setVendorStatus(store: Store, kvk: string, to: ParticipantStatus, reason: string, actor: string): Promise<Vendor> {
  await changeStatus(store, 'vendor', kvk, to, reason, actor);
  return getVendor(store, kvk);
}

export async function qualify(
  store: Store,
  ura: string,
  input: { qualification: string; validFrom?: string; validUntil?: string },
  actor: string,
): Promise<Participant> {
  if (!/^[a-z][a-z0-9-]{1,40}$/.test(input.qualification ?? '')) throw badRequest('qualification must be an exchange or generic-function code');
  // Only what the current agreements name: a typo would otherwise be recorded and grant nothing.
  const agreements = await currentAgreements(store);
  const known = qualificationCodes(agreements);
  if (!known.includes(input.qualification)) {
    throw unprocessable(
      `unknown qualification "${input.qualification}": agreements version ${agreements.version} names ${known.join(', ')}`,
    );
  }
  const from = input.validFrom ? new Date(input.validFrom) : new Date();
  const until = input.validUntil ? new Date(input.validUntil) : null;
  if (Number.isNaN(from.getTime()) || (until && Number.isNaN(until.getTime()))) throw badRequest('validFrom/validUntil must be dates');
  if (until && until <= from) throw badRequest('validUntil must be after validFrom');
  const exists = await store.query('SELECT 1 FROM participants WHERE ura = $1', [ura]);
  if (!exists.length) throw notFound(`no participant ${ura}`);
  await store.query('INSERT INTO qualifications (ura, qualification, valid_from, valid_until, granted_by) VALUES ($1, $2, $3, $4, $5)', [
    ura,
    input.qualification,
    from.toISOString(),
    until?.toISOString() ?? null,
    actor,
  ]);
  return getParticipant(store, ura);
}

/** What a participant can be qualified for: the exchanges and the generic functions (the
 * qualifications the scopes of the central parts ask for) of an agreements document. */
export function qualificationCodes(doc: AgreementsDocument): string[] {
  const generic = doc.scopes.map((s) => s.qualification).filter((q): q is string => !!q);
  return [...new Set([...doc.exchanges.map((e) => e.code), ...generic])].sort();
}

/** Ends every open qualification of this kind now. */
export async function withdrawQualification(store: Store, ura: string, qualification: string): Promise<Participant> {
  await store.query(
    'UPDATE qualifications SET valid_until = now() WHERE ura = $1 AND qualification = $2 AND (valid_until IS NULL OR valid_until > now())',
    [ura, qualification],
  );
  return getParticipant(store, ura);
}

export async function registerVendor(store: Store, input: { kvk: string; name: string; hosts?: string[] }, actor: string): Promise<Vendor> {
  checkKvk(input.kvk);
  if (!input.name?.trim()) throw badRequest('name is required');
  await store.transaction(async (tx) => {
    const rows = await tx.query(`INSERT INTO vendors (kvk, name, status) VALUES ($1, $2, 'applied') ON CONFLICT (kvk) DO NOTHING RETURNING kvk`, [
      input.kvk,
      input.name.trim(),
    ]);
    if (rows.length) await history(tx, 'vendor', input.kvk, 'applied', 'registered', actor);
    for (const ura of input.hosts ?? []) {
      const known = await tx.query('SELECT 1 FROM participants WHERE ura = $1', [ura]);
      if (!known.length) throw badRequest(`vendor hosts unknown participant ${ura}`);
      await tx.query('INSERT INTO vendor_hosts (kvk, ura) VALUES ($1, $2) ON CONFLICT DO NOTHING', [input.kvk, ura]);
    }
  });
  return getVendor(store, input.kvk);
}

interface ParticipantRow {
  ura: string;
  name: string;
  organization_type: string;
  agb: string | null;
  address: Address | string;
  status: ParticipantStatus;
  status_changed_at: unknown;
  [k: string]: unknown;
}

export async function getParticipant(store: Queryable, ura: string): Promise<Participant> {
  const found = await listParticipants(store, ura);
  if (!found.length) throw notFound(`no participant ${ura}`);
  return found[0];
}

export async function listParticipants(store: Queryable, ura?: string): Promise<Participant[]> {
  const rows = await store.query<ParticipantRow>(
    `SELECT * FROM participants ${ura ? 'WHERE ura = $1' : ''} ORDER BY ura`,
    ura ? [ura] : [],
  );
  const quals = await store.query<{ id: string; ura: string; qualification: string; valid_from: unknown; valid_until: unknown }>(
    `SELECT id, ura, qualification, valid_from, valid_until FROM qualifications ${ura ? 'WHERE ura = $1' : ''} ORDER BY id`,
    ura ? [ura] : [],
  );
  const hosts = await store.query<{ kvk: string; ura: string }>(`SELECT kvk, ura FROM vendor_hosts ${ura ? 'WHERE ura = $1' : ''}`, ura ? [ura] : []);
  return rows.map((r) => ({
    ura: r.ura,
    name: r.name,
    organizationType: r.organization_type,
    ...(r.agb ? { agb: r.agb } : {}),
    address: typeof r.address === 'string' ? JSON.parse(r.address) : r.address,
    status: r.status,
    statusChangedAt: iso(r.status_changed_at),
    qualifications: quals
      .filter((q) => q.ura === r.ura)
      .map((q) => ({ id: Number(q.id), qualification: q.qualification, validFrom: iso(q.valid_from), validUntil: q.valid_until ? iso(q.valid_until) : null })),
    hostedBy: hosts.filter((h) => h.ura === r.ura).map((h) => h.kvk),
  }));
}

export async function getVendor(store: Queryable, kvk: string): Promise<Vendor> {
  const rows = await store.query<{ kvk: string; name: string; status: ParticipantStatus; status_changed_at: unknown }>(
    'SELECT * FROM vendors WHERE kvk = $1',
    [kvk],
  );
  if (!rows.length) throw notFound(`no vendor ${kvk}`);
  const hosts = await store.query<{ ura: string }>('SELECT ura FROM vendor_hosts WHERE kvk = $1 ORDER BY ura', [kvk]);
  return { kvk, name: rows[0].name, status: rows[0].status, statusChangedAt: iso(rows[0].status_changed_at), hosts: hosts.map((h) => h.ura) };
}

export async function statusHistory(store: Queryable, kind: 'participant' | 'vendor', subject: string): Promise<StatusChange[]> {
  const rows = await store.query<{ status: ParticipantStatus; reason: string; actor: string; at: unknown }>(
    'SELECT status, reason, actor, at FROM status_history WHERE subject_kind = $1 AND subject = $2 ORDER BY id',
    [kind, subject],
  );
  return rows.map((r) => ({ status: r.status, reason: r.reason, actor: r.actor, at: iso(r.at) }));
}

/** Whether a qualification is valid at `at` (the network's one rule: kit/rules/qualification.ts). */
export function holdsQualification(p: Participant, qualification: string, at = new Date()): boolean {
  return qualifiedAt(p.qualifications, qualification, at);
}
