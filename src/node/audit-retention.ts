import type { FastifyInstance } from 'fastify';
import { calculateJwkThumbprint, type JWK } from 'jose';
import type { Logger } from 'pino';
import { createJwsSigner, generateSigningKey, type JwsSigner, pruneAuditLog, type RetentionJob, startRetentionJob } from '../audit/contract.ts';
import type { PartKeys } from '../kit/keys/part-keys.ts';
import type { PartContext } from '../kit/part.ts';
import type { Store } from '../kit/store/store.ts';
import { nodeSettingsOf } from './serve-settings.ts';

// Retention of the node's local audit log. Setting audit_retention_days: 0 keeps every record
// (the default). When set, an
// hourly job removes records older than that behind a checkpoint signed with the node's checkpoint
// key, whose public half the node publishes at AUDIT_CHECKPOINT_JWKS_PATH so that
// `ldn audit verify --checkpoint-key` can check the pruned log from its checkpoint.

export const AUDIT_CHECKPOINT_JWKS_PATH = '/.well-known/audit-checkpoint-jwks.json';
const KEY_PURPOSE = 'audit-checkpoint';

/** Days to keep, or undefined to keep forever (setting audit_retention_days, 0 = forever). */
export function auditRetentionDaysOf(settings: Record<string, string | undefined>): number | undefined {
  return nodeSettingsOf(settings).auditRetentionDays || undefined;
}

/**
 * The node's Ed25519 checkpoint key, created on first use and kept sealed under the key-encryption
 * key in the node's store (like the other part keys), so every instance over one database signs
 * with the same key and a restart keeps it. A clear row an earlier version left in
 * auth_signing_keys is moved in once and forgotten there. With checkpoints already signed the node
 * refuses to make a new key: the published key would no longer verify them.
 */
export async function loadOrCreateCheckpointSigner(store: Store, keys: PartKeys): Promise<JwsSigner> {
  const text = await keys.secret('audit-checkpoint-key', {
    legacyRow: {
      read: async () => {
        const row = (await store.query<{ private_jwk: JWK | string }>('SELECT private_jwk FROM auth_signing_keys WHERE purpose = $1', [KEY_PURPOSE]))[0];
        if (!row) return undefined;
        return typeof row.private_jwk === 'string' ? row.private_jwk : JSON.stringify(row.private_jwk);
      },
      forget: async () => void (await store.query('DELETE FROM auth_signing_keys WHERE purpose = $1', [KEY_PURPOSE])),
    },
    hasData: async () => (await store.query('SELECT 1 FROM audit_checkpoint LIMIT 1')).length > 0,
    make: async () => JSON.stringify((await generateSigningKey()).privateJwk),
  });
  const privateJwk = JSON.parse(text) as JWK;
  const { d: _d, ...publicJwk } = privateJwk;
  return createJwsSigner(privateJwk, await calculateJwkThumbprint(publicJwk));
}

/** Publishes the checkpoint key's public JWK (a JWKS of one key); the path must be public. */
export async function registerAuditCheckpointKey(app: FastifyInstance, store: Store, keys: PartKeys): Promise<void> {
  let signer: Promise<JwsSigner> | undefined;
  app.get(AUDIT_CHECKPOINT_JWKS_PATH, async () => {
    signer ??= loadOrCreateCheckpointSigner(store, keys).catch((err) => {
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
  ctx: Pick<PartContext, 'store' | 'log' | 'settings' | 'keys'>,
  over: Partial<AuditRetentionOptions> = {},
): RetentionJob {
  const days = over.days ?? auditRetentionDaysOf(ctx.settings);
  if (days === undefined) return { runOnce: async () => {}, stop: async () => {} };
  const store = over.store ?? ctx.store;
  const log = over.log ?? ctx.log;
  let signer: JwsSigner | undefined;
  return startRetentionJob(
    async () => {
      signer ??= await loadOrCreateCheckpointSigner(store, ctx.keys);
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
