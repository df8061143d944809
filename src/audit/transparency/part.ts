import { transparencyOpenApi } from './openapi.ts';
import { join } from 'node:path';
import type { FastifyRequest } from 'fastify';
import type { JWK } from 'jose';
import { badRequest, forbidden, notFound, unauthorized } from '../../kit/fhir/outcome.ts';
import { pageParams, strictParams, searchsetBundle } from '../../kit/fhir/search.ts';
import type { PartContext, PartDefinition, Peer } from '../../kit/part.ts';
import { sodiumReady, tokenGuard, type TokenGuardOptions, type TokenMode } from '../../pseudonyms/contract.ts';
import { PATIENT_TOKEN_PARAM, TRANSPARENCY_WRITE_SCOPE } from '../contract.ts';
import { type RetentionJob, startRetentionJob } from '../retention.ts';
import { createJwsSigner, generateSigningKey, type JwsSigner } from '../signing.ts';
import { citizenAccessEntries, citizenAuditEvent, type CitizenViewOptions, inclusionProofPath } from './citizen-view.ts';
import { consistencyProof, createLogAppender, inclusionProof, leafIndexOf, logSize, transparencyLogMigrations } from './log-store.ts';
import { acceptIncomingEvent, type PseudonymResolver } from './receive.ts';
import { announceToPrs, loadTransparencyRecipientKeys } from './recipient-keys.ts';
import { pruneEventBodies } from './retention.ts';
import { PseudonymTokenRefused, stablePseudonyms } from './stable-pseudonym.ts';
import { latestSignedTreeHead, type SignedTreeHead, signTreeHead } from './tree-head.ts';
import { transparencySettingsOf } from './serve-settings.ts';

// The national access-transparency log as a part. Nodes POST their access events (mTLS +
// transparency:write token, idempotent by id) naming the patient by a PRS token addressed to this
// part; the part turns it into its own stable pseudonym, appends the event to a Merkle tree, signs
// tree heads regularly and serves inclusion and consistency proofs to anyone (hashes only). The
// central citizen portal (and only it) asks for one citizen's accesses with a PRS token too, so
// this part never sees a BSN.
//   POST /AuditEvent                          node → log (transparency:write)
//   GET  /AuditEvent?patient-token=<PRS token> portal → the citizen's accesses (portal certificate)
//   GET  /tree-head, /proof/inclusion, /proof/consistency, /.well-known/jwks.json   public
//   GET  /.well-known/pseudonym-recipient     {recipientOrganization, recipientScope} for PRS requests

export { PATIENT_TOKEN_PARAM, TRANSPARENCY_WRITE_SCOPE };

/** Who the citizen behind a request is, as stable pseudonym(s); undefined = not identified (401). */
export type CitizenAuthenticator = (
  request: FastifyRequest,
) => Promise<{ pseudonym: string; /** every active PRS key version's pseudonym, current first */ pseudonyms?: string[] } | undefined>;

export interface TransparencyOptions extends CitizenViewOptions, TokenGuardOptions {
  signer?: JwsSigner;
  /** How often a new tree head is signed when the log grew. */
  treeHeadIntervalMs?: number;
  /**
   * Resolves the citizen of a GET /AuditEvent. Default: the caller must be the portal
   * (portalPeer) and name the citizen by ?patient-token=<PRS token for this part>.
   */
  citizen?: CitizenAuthenticator;
  /** Which mTLS peers are the citizen portal. Default: URA transparency_portal_ura, else operator_ura (the portal is the operator's). */
  portalPeer?: (peer: Peer) => boolean;
  /** Alias of `mode`: access tokens on POST /AuditEvent (auto | required | off). */
  tokens?: TokenMode;
  /** How late an event may arrive after it was recorded (its token is judged at recording time). */
  maxDeliveryDelayMs?: number;
  /**
   * Days an event's body (and its citizen pseudonym) is kept; its leaf stays for ever, so proofs
   * and heads stay valid. Default: setting transparency_retention_days;
   * absent or 0 = keep forever.
   */
  retentionDays?: number;
}

const KEY_FILE = 'transparency-signing-key.json';
const MIN_ON_DEMAND_MS = 1000;

async function loadSigner(ctx: PartContext): Promise<JwsSigner> {
  // The signing key is kept (sealed) in the part's store; heads signed under an earlier key would
  // otherwise no longer verify, so a log with signed heads and no key refuses to start.
  const jwk = await ctx.keys.secret('transparency-signing-key.json', {
    legacyFile: ctx.dataDir ? join(ctx.dataDir, KEY_FILE) : undefined,
    hasData: async () => (await ctx.store.query('SELECT 1 FROM tlog_head LIMIT 1')).length > 0,
    make: async () => JSON.stringify((await generateSigningKey()).privateJwk),
  });
  return createJwsSigner(JSON.parse(jwk) as JWK, 'transparency-1');
}

const nonNegativeInt = (value: unknown, name: string): number | undefined => {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (typeof value !== 'string' || !/^\d{1,15}$/.test(value) || !Number.isSafeInteger(n)) throw badRequest(`${name} must be a non-negative integer`, [name]);
  return n;
};

export function createTransparencyPart(options: TransparencyOptions = {}): PartDefinition {
  let timer: NodeJS.Timeout | undefined;
  let stopAnnouncing: (() => Promise<void>) | undefined;
  let retention: RetentionJob | undefined;
  return {
    name: 'transparency',
    schema: 'transparency',
    migrations: transparencyLogMigrations,
    publicPaths: ['/tree-head', '/proof/', '/.well-known/'],
    capability: {
      description: 'LDN access transparency log: append-only Merkle tree of AuditEvents with signed tree heads',
      resources: [{ type: 'AuditEvent', interactions: ['create', 'search-type'], searchParams: [{ name: 'patient', type: 'token' }, { name: PATIENT_TOKEN_PARAM, type: 'string' }] }],
      openApiPath: '/openapi.json',
    },
    openApi: transparencyOpenApi,
    async register(app, ctx) {
      const settings = transparencySettingsOf(ctx.settings);
      await sodiumReady();
      const signer = options.signer ?? (await loadSigner(ctx));
      const keys = await loadTransparencyRecipientKeys(ctx);
      stopAnnouncing = await announceToPrs(ctx, keys);
      const resolve: PseudonymResolver = (token, atMs) => stablePseudonyms(token, keys, atMs);
      const requireScope = tokenGuard(app, ctx, { mode: options.tokens ?? options.mode, verification: options.verification });
      const portalUra = settings.portalUra;
      const citizen = options.citizen ?? portalCitizen(options.portalPeer ?? ((peer) => peer.ura === portalUra), resolve);
      const maxDelayMs = options.maxDeliveryDelayMs ?? settings.maxDeliveryDelayMs;
      const store = ctx.store;
      const appender = createLogAppender(store);
      const interval = options.treeHeadIntervalMs ?? settings.treeHeadIntervalMs;
      const sign = () => signTreeHead(store, signer);
      timer = setInterval(() => void sign().catch((err) => ctx.log.warn({ err }, 'tree head signing failed')), interval);
      timer.unref();
      // 0 (the default) keeps everything.
      const retentionDays = options.retentionDays ?? (settings.retentionDays || undefined);
      if (retentionDays !== undefined) {
        retention = startRetentionJob(
          async () => {
            const { cleared } = await pruneEventBodies(store, { olderThanDays: retentionDays });
            if (cleared > 0) ctx.log.info({ event: 'transparency.pruned', cleared, days: retentionDays }, 'old event bodies removed; leaves kept');
          },
          { onError: (err) => ctx.log.warn({ err, event: 'transparency.prune_failed' }, 'transparency retention pass failed') },
        );
      }

      /** The latest head, re-signed on demand at most once per second when the log grew. */
      const freshHead = async (mustCover?: number): Promise<SignedTreeHead> => {
        const latest = await latestSignedTreeHead(store);
        if (latest && mustCover !== undefined && latest.treeSize > mustCover) return latest;
        if (latest && mustCover === undefined && Date.now() - Date.parse(latest.timestamp) < MIN_ON_DEMAND_MS) return latest;
        return sign();
      };

      app.get('/.well-known/jwks.json', async () => ({ keys: [signer.publicJwk] }));
      app.get('/.well-known/pseudonym-recipient', async () => ({ recipientOrganization: keys.audience, recipientScope: keys.scope }));

      app.post('/AuditEvent', { preHandler: requireScope(TRANSPARENCY_WRITE_SCOPE) }, async (request, reply) => {
        const item = await acceptIncomingEvent(request.body, request.peer, { resolve, maxDelayMs, actingUra: request.token?.sub });
        const r = await appender.append(item);
        return reply
          .code(r.duplicate ? 200 : 201)
          .header('location', `${ctx.baseUrl}/AuditEvent/${encodeURIComponent(r.eventId)}`)
          .header('x-leaf-index', String(r.index))
          .type('application/fhir+json')
          .send(item.body);
      });

      app.get('/tree-head', async () => freshHead());

      app.get('/proof/inclusion', async (request) => {
        const q = strictParams(request.query as Record<string, string>, ['id', 'index', 'size']);
        let index = nonNegativeInt(q.get('index')?.[0], 'index');
        const id = q.get('id')?.[0];
        if (id !== undefined) index = await leafIndexOf(store, id);
        if (index === undefined) throw id !== undefined ? notFound('no such event in the log') : badRequest('give id or index');
        const size = nonNegativeInt(q.get('size')?.[0], 'size') ?? (await freshHead(index)).treeSize;
        if (index >= size || size > (await logSize(store))) throw badRequest('index must be below size, and size at most the log size');
        return inclusionProof(store, index, size);
      });

      app.get('/proof/consistency', async (request) => {
        const q = strictParams(request.query as Record<string, string>, ['first', 'second']);
        const first = nonNegativeInt(q.get('first')?.[0], 'first');
        const second = nonNegativeInt(q.get('second')?.[0], 'second');
        if (!first || !second || first > second || second > (await logSize(store))) {
          throw badRequest('need 0 < first <= second <= log size', ['first', 'second']);
        }
        return consistencyProof(store, first, second);
      });

      app.get('/AuditEvent', async (request, reply) => {
        const query = request.query as Record<string, string>;
        const q = strictParams(query, ['patient', PATIENT_TOKEN_PARAM]);
        const who = await citizen(request);
        if (!who) throw unauthorized('the access log is shown to the citizen it concerns only; log in first');
        const mine = who.pseudonyms ?? [who.pseudonym];
        const asked = q.get('patient')?.[0]?.split('|').pop();
        if (asked !== undefined && !mine.includes(asked)) throw forbidden('you can only see accesses to your own data');
        const page = pageParams(query, { defaultCount: 50, maxCount: 200 });
        const { entries, total } = await citizenAccessEntries(store, mine, page, options);
        // Links must not repeat the single-use token: they name the page only.
        const linkQuery = { _count: query._count, _offset: query._offset };
        const bundle = searchsetBundle({
          baseUrl: ctx.baseUrl,
          path: '/AuditEvent',
          query: linkQuery,
          resources: entries.map((e) => citizenAuditEvent(e)),
          total,
          count: page.count,
          offset: page.offset,
          hasMore: page.offset + entries.length < total,
        });
        for (const entry of bundle.entry ?? []) {
          if (entry.resource?.id) entry.link = [{ relation: 'inclusion-proof', url: `${ctx.baseUrl}${inclusionProofPath(entry.resource.id)}` }];
        }
        return reply.type('application/fhir+json').send(bundle);
      });
    },
    async stop() {
      if (timer) clearInterval(timer);
      await retention?.stop();
      await stopAnnouncing?.();
    },
  };
}

/**
 * The default citizen authenticator: only the portal may ask, and it names the citizen by a PRS
 * token addressed to this part (fetched with the citizen's BSN from her login, at the PRS).
 */
export function portalCitizen(isPortal: (peer: Peer) => boolean, resolve: PseudonymResolver): CitizenAuthenticator {
  return async (request) => {
    if (!request.peer || !isPortal(request.peer)) throw forbidden("only the citizen portal may ask for a citizen's access log");
    const raw = (request.query as Record<string, unknown>)[PATIENT_TOKEN_PARAM];
    if (raw === undefined) return undefined;
    if (typeof raw !== 'string') throw badRequest(`${PATIENT_TOKEN_PARAM} must be given once`, [PATIENT_TOKEN_PARAM]);
    try {
      const pseudonyms = await resolve(raw, Date.now());
      return { pseudonym: pseudonyms[0], pseudonyms };
    } catch (err) {
      if (err instanceof PseudonymTokenRefused) throw new PseudonymTokenRefused(`${PATIENT_TOKEN_PARAM} refused: ${err.message}`);
      throw err;
    }
  };
}

/** The part as the sandbox starts it: the citizen view answers the portal (operator URA) only. */
export const transparencyPart: PartDefinition = createTransparencyPart();
