import type { JWK } from 'jose';
import { openStore } from '../kit/store/open.ts';
import { auditLogMigrations } from './chain.ts';
import { verifyChain } from './verify.ts';

// What `ldn audit verify` runs (the CLI wiring lives with the lead). Returns the exit code and
// one human line; the caller prints it. Never prints event contents, so no patient data leaks.

export interface AuditVerifyArgs {
  /** Schema of the node's store that holds the audit_* tables. */
  schema: string;
  databaseUrl?: string;
  dataDir?: string;
  /** Public JWK of the node's checkpoint key; when given, the checkpoint signature is checked. */
  checkpointKey?: JWK;
}

export async function auditVerifyCommand(args: AuditVerifyArgs): Promise<{ exitCode: number; message: string }> {
  const store = await openStore({ schema: args.schema, databaseUrl: args.databaseUrl, dataDir: args.dataDir }, auditLogMigrations);
  try {
    const r = await verifyChain(store, { checkpointKey: args.checkpointKey });
    if (r.ok) return { exitCode: 0, message: `audit log intact: ${r.checked} records (${r.firstSeq}..${r.lastSeq})` };
    return { exitCode: 1, message: `audit log broken at record ${r.firstBadSeq}: ${r.kind} (${r.detail})` };
  } finally {
    await store.close();
  }
}
