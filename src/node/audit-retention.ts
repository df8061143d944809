import type { FastifyInstance } from 'fastify';
import { calculateJwkThumbprint, type JWK } from 'jose';
import type { Logger } from 'pino';
import {
  pruneAuditLog,
  type RetentionJob,
  retentionDaysSetting,
  startRetentionJob,
} from '../audit/retention.ts';
import { createJwsSigner, generateSigningKey, type JwsSigner } from '../audit/signing.ts';
import type { PartContext } from '../kit/part.ts';
import type { Store } from '../kit/store/store.ts';

// Retention of the node's local audit log. Setting audit_retention_days
// (LDN_SETTING_AUDIT_RETENTION_DAYS): absent or 0 keeps every record (the default). When set, an
// hourly job removes records older than that behind a checkpoint signed with the node's checkpoint
// key, whose public half the node publishes at AUDIT_CHECKPOINT_JWKS_PATH so that
// `ldn audit verify --checkpoint-key` can check the pruned log from its checkpoint.

export const AUDIT_CHECKPOINT_JWKS_PATH = '/.well-known/audit-checkpoint-jwks.json';
const KEY_PURPOSE = 'audit-checkpoint';

/** Days to keep, or undefined to keep forever. The sandbox passes settings via the environment too. */
export function auditRetentionDaysOf(settings: Record<string, string | undefined>): number | undefined {
  return retentionDaysSetting(
    settings.audit_retention_days ?? process.env.LDN_SETTING_AUDIT_RETENTION_DAYS,
    'audit_retention_days',
  );
}

/**
 * The node's Ed25519 checkpoint key, created on first use. It lives in the node's store (the
 * auth_signing_keys table of the node's own authorisation server), so every instance over one
 * database signs with the same key: the same 'keys in stores' STUB as the access-token key; in
 * production it belongs in an HSM or a mounted secret.
 */
export async function loadOrCreateCheckpointSigner(store: Store): Promise<JwsSigner> {
  const read = async () =>
    (
      await store.query<{ private_jwk: JWK | string }>(
        'SELECT private_jwk FROM auth_signing_keys WHERE purpose = $1',
        [KEY_PURPOSE],
      )
    )[0]?.private_jwk;
  let stored = await read();
  if (stored === undefined) {
    const { privateJwk, publicJwk } = await generateSigningKey();
    const kid = await calculateJwkThumbprint(publicJwk);
    // First writer wins when several instances start at once.
    await store.query(
      'INSERT INTO auth_signing_keys (purpose, kid, private_jwk) VALUES ($1, $2, $3) ON CONFLICT (purpose) DO NOTHING',
      [KEY_PURPOSE, kid, JSON.stringify(privateJwk)],
    );
    stored = await read();
  }
  const privateJwk = (typeof stored === 'string' ? JSON.parse(stored) : stored) as JWK;
  const { d: _d, ...publicJwk } = privateJwk;
  return createJwsSigner(privateJwk, await calculateJwkThumbprint(publicJwk));
}

/** Publishes the checkpoint key's public JWK (a JWKS of one key); the path must be public. */
export async function registerAuditCheckpointKey(app: FastifyInstance, store: Store): Promise<void> {
  let signer: Promise<JwsSigner> | undefined;
  app.get(AUDIT_CHECKPOINT_JWKS_PATH, async () => {
    signer ??= loadOrCreateCheckpointSigner(store).catch((err) => {
      signer = undefined;
      throw err;
    });
    return { keys: [(await signer).publicJwk] };
  });
}

export interface AuditRetentionOptions {
  store: Store;
  log: Logger;
  /** Overrides the setting (tests). */
  days?: number;
  intervalMs?: number;
  firstRunMs?: number;
  now?: () => Date;
}

/** Starts the pruning job when retention is configured; otherwise a job that does nothing. */
export function startAuditRetention(
  ctx: Pick<PartContext, 'store' | 'log' | 'settings'>,
  over: Partial<AuditRetentionOptions> = {},
): RetentionJob {
  const days = over.days ?? auditRetentionDaysOf(ctx.settings);
  if (days === undefined) return { runOnce: async () => {}, stop: async () => {} };
  const store = over.store ?? ctx.store;
  const log = over.log ?? ctx.log;
  let signer: JwsSigner | undefined;
  return startRetentionJob(
    async () => {
      signer ??= await loadOrCreateCheckpointSigner(store);
      const r = await pruneAuditLog(store, { olderThanDays: days, signer, now: over.now?.() });
      if (r.pruned > 0)
        log.info(
          { event: 'audit.pruned', pruned: r.pruned, checkpointSeq: r.checkpoint?.seq, days },
          'audit log pruned behind a signed checkpoint',
        );
    },
    {
      intervalMs: over.intervalMs,
      firstRunMs: over.firstRunMs,
      onError: (err) => log.warn({ err, event: 'audit.prune_failed' }, 'audit log retention pass failed'),
    },
  );
}
