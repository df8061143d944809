import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyRequest } from 'fastify';
import type { JWK } from 'jose';
import { badRequest, forbidden, notFound, unauthorized } from '../../kit/fhir/outcome.ts';
import { pageParams, strictParams, searchsetBundle } from '../../kit/fhir/search.ts';
import type { PartContext, PartDefinition } from '../../kit/part.ts';
import { createJwsSigner, generateSigningKey, type JwsSigner } from '../signing.ts';
import { citizenAccessEntries, citizenAuditEvent, type CitizenViewOptions } from './citizen-view.ts';
import { consistencyProof, createLogAppender, inclusionProof, leafIndexOf, logSize, transparencyLogMigrations } from './log-store.ts';
import { acceptIncomingEvent } from './receive.ts';
import { latestSignedTreeHead, type SignedTreeHead, signTreeHead } from './tree-head.ts';

// The national access-transparency log as a part. Nodes POST their access events (mTLS,
// idempotent by id); the part appends them to a Merkle tree, signs tree heads regularly and
// serves inclusion and consistency proofs to anyone (they reveal hashes only). A logged-in
// citizen gets the accesses to their own data, keyed by their transparency pseudonym.

/** Who the citizen behind a request is, as the transparency pseudonym; undefined = not logged in. */
export type CitizenAuthenticator = (request: FastifyRequest) => Promise<{ pseudonym: string } | undefined>;

export interface TransparencyOptions extends CitizenViewOptions {
  signer?: JwsSigner;
  /** How often a new tree head is signed when the log grew. */
  treeHeadIntervalMs?: number;
  /**
   * Resolves the citizen of a request. Absent = the citizen view answers 401 (deny by default);
   * the lead wires it to the citizen identity provider + PRS.
   */
  citizen?: CitizenAuthenticator;
}

const KEY_FILE = 'transparency-signing-key.json';
const MIN_ON_DEMAND_MS = 1000;

async function loadSigner(ctx: PartContext): Promise<JwsSigner> {
  // Keep the signing key across restarts when the part has a data directory; heads signed
  // under an earlier key would otherwise no longer verify.
  if (ctx.dataDir) {
    const file = join(ctx.dataDir, KEY_FILE);
    if (existsSync(file)) return createJwsSigner(JSON.parse(readFileSync(file, 'utf8')) as JWK, 'transparency-1');
    const { privateJwk } = await generateSigningKey();
    mkdirSync(ctx.dataDir, { recursive: true });
    writeFileSync(file, JSON.stringify(privateJwk), { mode: 0o600 });
    return createJwsSigner(privateJwk, 'transparency-1');
  }
  return createJwsSigner((await generateSigningKey()).privateJwk, 'transparency-1');
}

const nonNegativeInt = (value: unknown, name: string): number | undefined => {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (typeof value !== 'string' || !/^\d{1,15}$/.test(value) || !Number.isSafeInteger(n)) throw badRequest(`${name} must be a non-negative integer`, [name]);
  return n;
};

export function createTransparencyPart(options: TransparencyOptions = {}): PartDefinition {
  let timer: NodeJS.Timeout | undefined;
  return {
    name: 'transparency',
    schema: 'transparency',
    migrations: transparencyLogMigrations,
    publicPaths: ['/tree-head', '/proof/', '/.well-known/'],
    capability: {
      description: 'LDN access transparency log: append-only Merkle tree of AuditEvents with signed tree heads',
      resources: [{ type: 'AuditEvent', interactions: ['create', 'search-type'], searchParams: [{ name: 'patient', type: 'token' }] }],
    },
    async register(app, ctx) {
      const signer = options.signer ?? (await loadSigner(ctx));
      const store = ctx.store;
      const appender = createLogAppender(store);
      const interval = options.treeHeadIntervalMs ?? Number(ctx.settings.TREE_HEAD_INTERVAL_MS ?? 10_000);
      const sign = () => signTreeHead(store, signer);
      timer = setInterval(() => void sign().catch((err) => ctx.log.warn({ err }, 'tree head signing failed')), interval);
      timer.unref();

      /** The latest head, re-signed on demand at most once per second when the log grew. */
      const freshHead = async (mustCover?: number): Promise<SignedTreeHead> => {
        const latest = await latestSignedTreeHead(store);
        if (latest && mustCover !== undefined && latest.treeSize > mustCover) return latest;
        if (latest && mustCover === undefined && Date.now() - Date.parse(latest.timestamp) < MIN_ON_DEMAND_MS) return latest;
        return sign();
      };

      app.get('/.well-known/jwks.json', async () => ({ keys: [signer.publicJwk] }));

      app.post('/AuditEvent', async (request, reply) => {
        const item = acceptIncomingEvent(request.body, request.peer);
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
        const q = strictParams(query, ['patient']);
        const who = options.citizen ? await options.citizen(request) : undefined;
        if (!who) throw unauthorized('the access log is shown to the citizen it concerns only; log in first');
        const asked = q.get('patient')?.[0]?.split('|').pop();
        if (asked !== undefined && asked !== who.pseudonym) throw forbidden('you can only see accesses to your own data');
        const page = pageParams(query, { defaultCount: 50, maxCount: 200 });
        const { entries, total } = await citizenAccessEntries(store, who.pseudonym, page, options);
        const bundle = searchsetBundle({
          baseUrl: ctx.baseUrl,
          path: '/AuditEvent',
          query,
          resources: entries.map((e) => citizenAuditEvent(e, who.pseudonym)),
          total,
          count: page.count,
          offset: page.offset,
          hasMore: page.offset + entries.length < total,
        });
        return reply.type('application/fhir+json').send(bundle);
      });
    },
    async stop() {
      if (timer) clearInterval(timer);
    },
  };
}

/**
 * The part as the sandbox starts it. The citizen view stays closed (401) until the lead passes
 * a CitizenAuthenticator via createTransparencyPart({citizen, agreements, organizationName}).
 */
export const transparencyPart: PartDefinition = createTransparencyPart();
