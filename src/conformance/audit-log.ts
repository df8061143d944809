import { auditLogMigrations, verifyChain } from '../audit/contract.ts';
import { openStore } from '../kit/store/open.ts';
import type { Queryable, Store } from '../kit/store/store.ts';

// The "audit written" rule through the audit-verify interface (what `ldn audit verify` runs): the
// holder's hash-chained audit log must be intact and hold records of the kit's own accesses,
// found by the trace id every probe carries in its traceparent. A vendor gives the kit read
// access to the schema of its audit log; in-process runs (the sandbox's CI) pass the store.

export interface AuditLogVerdict {
  /** The chain verifies from its start (or its last signed checkpoint) to its head. */
  intact: boolean;
  /** Records carrying the trace id. */
  records: number;
  detail: string;
}

export type AuditLogVerifier = (traceId: string) => Promise<AuditLogVerdict>;

export function auditLogVerifier(store: Queryable): AuditLogVerifier {
  return async (traceId) => {
    const chain = await verifyChain(store);
    const [row] = await store.query<{ n: string }>('SELECT count(*) AS n FROM audit_log WHERE trace_id = $1', [traceId]);
    const records = Number(row?.n ?? 0);
    const state = chain.ok ? `chain intact (${chain.checked} records)` : `chain broken at record ${chain.firstBadSeq}: ${chain.kind}`;
    return { intact: chain.ok, records, detail: `${state}; ${records} record(s) of the kit's trace ${traceId}` };
  };
}

/** Opens a holder's audit store by schema (PostgreSQL URL or PGlite directory) for the kit. */
export async function openAuditLog(o: { schema: string; databaseUrl?: string; dataDir?: string }): Promise<{ verify: AuditLogVerifier; close(): Promise<void> }> {
  const store: Store = await openStore({ schema: o.schema, databaseUrl: o.databaseUrl, dataDir: o.dataDir }, auditLogMigrations);
  return { verify: auditLogVerifier(store), close: () => store.close() };
}
