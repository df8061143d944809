import type { Bundle } from '@medplum/fhirtypes';
import type { FastifyRequest } from 'fastify';
import { badRequest, forbidden, HttpError, notFound } from '../kit/fhir/outcome.ts';
import { ZORGCONTEXT_CODES } from '../kit/fhir/profiles/gf-codes.ts';
import { pageParams, strictParams } from '../kit/fhir/search.ts';
import { PartClient } from '../kit/http/client.ts';
import type { PartContext, PartDefinition } from '../kit/part.ts';
import { qualifiedAt } from '../kit/rules/qualification.ts';
import { sodiumReady, tokenGuard, type TokenGuardOptions } from '../pseudonyms/contract.ts';
import { type AgreementsDocument, type ExchangeDefinition, scopesOf } from '../trust/contract.ts';
import { referralToList } from './list-resource.ts';
import { nviMigrations } from './migrations.ts';
import { announceToPrs, loadNviKeys } from './nvi-keys.ts';
import { findBySource, readReferral, withdrawById } from './referrals.ts';
import { NVI_SEARCH_KEYS, NVI_SEARCH_PARAMS, parseCodeParam, parseSourceParam, parseSubjectParam } from './search-params.ts';
import { SubjectRefused, subjectHashes } from './subject-hash.ts';
import { poolSizeFrom, type SubjectHashPool, startSubjectHashPool } from './subject-hash-pool.ts';
import { batchedSubjectLookup } from './subject-lookups.ts';
import { processTransaction } from './transaction.ts';
import { nviSettingsOf } from './serve-settings.ts';

// The national referral index (NVI) as a part, per the GF IG List profile:
//   POST /            transaction Bundle of POST List / DELETE List entries (nvi:write)
//   POST /List        one registration (nvi:write)
//   GET  /List?subject:identifier=…(&code=…)  localise, limited to the exchange's categories (nvi:read)
//   GET  /List?source:identifier=…            the caller's own registrations (nvi:write or nvi:read)
//   GET|DELETE /List/<id>                     own referrals only
//   GET  /.well-known/pseudonym-recipient     {recipientOrganization, recipientScope} for holders
// The exchange of a lookup comes from the access token's exchange scope(s) (the trust AS grants
// those only to qualified participants), else from the X-Ldn-Exchange header, which counts only
// when the trust register says the caller may request in that exchange: it holds the exchange's
// qualification and is of one of its requester organisation types (what the AS checks before it
// grants the scope). Its data categories (agreements document) bound what is returned.
// Setting NVI_CRYPTO_WORKERS ("auto" = cores, a number, "off"): per-subject crypto (JWE decrypt,
// unblind, HMAC) runs in a worker-thread pool so the HTTP event loop stays free. The lookups of one
// event-loop turn share one message to a crypto thread and one database query (subject-lookups.ts).

export const NVI_READ_SCOPE = 'nvi:read';
export const NVI_WRITE_SCOPE = 'nvi:write';
export const EXCHANGE_HEADER = 'x-ldn-exchange';

export interface NviOptions extends TokenGuardOptions {
  /** The current agreements document (the trust part's, verified by the caller; tests pass defaultAgreements). */
  agreements: () => Promise<AgreementsDocument>;
  /** Crypto worker threads; overrides NVI_CRYPTO_WORKERS. 0 or 'off' = inline on the event loop. */
  cryptoWorkers?: number | 'auto' | 'off';
  /** A participant's register entry (null: not registered); default: the trust part's /participants/<ura>. */
  participant?: (ura: string) => Promise<RequesterStanding | null>;
}

/** What the NVI needs of a caller's trust-register entry to judge an exchange it names. */
export interface RequesterStanding {
  organizationType: string;
  qualifications: Array<{ qualification: string; validFrom: string; validUntil: string | null }>;
}

function qualifiedFor(caller: RequesterStanding, exchange: ExchangeDefinition, at: Date): boolean {
  return qualifiedAt(caller.qualifications, exchange.code, at) && exchange.requesterOrganizationTypes.includes(caller.organizationType);
}

/** URAs the caller acts for: the token's subject (cert-bound), else the certificate's URA. */
function callerCustodians(request: FastifyRequest): string[] {
  const ura = request.token?.sub ?? request.peer?.ura ?? '';
  if (!/^\d{8}$/.test(ura)) throw forbidden('the caller has no URA (certificate or token) to act as custodian');
  return [ura];
}

/**
 * Data categories the caller's exchange may reveal; deny (empty) when no exchange is named, or when
 * the header names one the caller is not qualified to request in (`caller` is its register entry,
 * looked up only when the header is used).
 */
export async function allowedCategories(
  agreements: AgreementsDocument,
  tokenScopes: string[],
  exchangeHeader: string | undefined,
  caller: () => Promise<RequesterStanding | null>,
  at = new Date(),
): Promise<string[]> {
  const byScopes = categoriesForScopes(agreements, tokenScopes);
  if (byScopes.length > 0 || !exchangeHeader) return byScopes;
  const named = agreements.exchanges.filter((e) => e.code === exchangeHeader);
  const standing = named.length ? await caller() : null;
  const exchanges = standing ? named.filter((e) => qualifiedFor(standing, e, at)) : [];
  return [...new Set(exchanges.flatMap((e) => e.dataCategories))];
}

// The categories a set of token scopes opens depend only on the agreements document and the
// scopes, so they are worked out once per document and scope string (not per lookup). A new
// document is a new key; the register-dependent header path is never remembered here.
const scopeCategories = new WeakMap<AgreementsDocument, Map<string, string[]>>();
const SCOPE_MEMO_MAX = 1_000;

function categoriesForScopes(agreements: AgreementsDocument, tokenScopes: string[]): string[] {
  let memo = scopeCategories.get(agreements);
  if (!memo) {
    memo = new Map();
    scopeCategories.set(agreements, memo);
  }
  const key = tokenScopes.join(' ');
  let categories = memo.get(key);
  if (!categories) {
    const exchanges = agreements.exchanges.filter((e) => e.scopes.some((s) => tokenScopes.includes(s)));
    categories = [...new Set(exchanges.flatMap((e) => e.dataCategories))];
    if (memo.size >= SCOPE_MEMO_MAX) memo.clear();
    memo.set(key, categories);
  }
  return [...categories];
}

const REGISTER_MEMO_MS = 30_000;
const REGISTER_MEMO_MAX = 10_000;

/** Register entries from the trust part, remembered 30 s (a withdrawn qualification counts within that). */
function trustRegister(ctx: PartContext): { lookup: (ura: string) => Promise<RequesterStanding | null>; close: () => Promise<void> } {
  let client: PartClient | undefined;
  const memo = new Map<string, { at: number; entry: Promise<RequesterStanding | null> }>();
  const fetchEntry = async (ura: string): Promise<RequesterStanding | null> => {
    if (!ctx.network.has('trust')) throw new HttpError(503, 'transient', 'the trust register is not reachable: a named exchange cannot be checked');
    client ??= new PartClient({ tls: ctx.tls });
    const r = await client.call<RequesterStanding>(`${ctx.network.url('trust')}/participants/${encodeURIComponent(ura)}`);
    if (r.status === 404) return null;
    if (r.status !== 200) throw new HttpError(503, 'transient', `the trust register answered ${r.status}: a named exchange cannot be checked`);
    return r.body;
  };
  return {
    lookup(ura) {
      const hit = memo.get(ura);
      if (hit && Date.now() - hit.at < REGISTER_MEMO_MS) return hit.entry;
      if (memo.size >= REGISTER_MEMO_MAX) memo.clear();
      const entry = fetchEntry(ura);
      memo.set(ura, { at: Date.now(), entry });
      entry.catch(() => memo.delete(ura)); // a failure is not remembered
      return entry;
    },
    close: async () => client?.close(),
  };
}

export function createNviPart(options: NviOptions): PartDefinition {
  let stopAnnouncing: (() => Promise<void>) | undefined;
  let pool: SubjectHashPool | undefined;
  // No built-in agreements: `ldn serve nvi` and the sandbox hold the trust part's signed document (compose.ts).
  const agreementsOf = options.agreements;
  return {
    name: 'nvi',
    schema: 'nvi',
    migrations: nviMigrations,
    publicPaths: ['/.well-known/'],
    capability: {
      description: 'LDN national referral index (NVI): pseudonymised referrals per GF localization List profile',
      resources: [
        {
          type: 'List',
          interactions: ['create', 'read', 'delete', 'search-type'],
          searchParams: NVI_SEARCH_PARAMS,
          profile: 'http://minvws.github.io/generiekefuncties-docs/StructureDefinition/nl-gf-localization-list',
        },
      ],
      systemInteractions: ['transaction'],
    },
    async register(app, ctx) {
      await sodiumReady();
      const keys = await loadNviKeys(ctx);
      const workers = poolSizeFrom(options.cryptoWorkers ?? nviSettingsOf(ctx.settings).cryptoWorkers);
      if (workers > 0) {
        pool = await startSubjectHashPool({ privateJwk: keys.privateJwk, audience: keys.audience, scope: keys.scope, indexKey: keys.indexKey }, workers);
        ctx.log.info({ event: 'nvi.crypto-workers', workers }, 'NVI crypto worker pool started');
      }
      stopAnnouncing = await announceToPrs(ctx, keys);
      const requireScope = tokenGuard(app, ctx, options);
      const register = options.participant ? undefined : trustRegister(ctx);
      const standingOf = options.participant ?? (register as NonNullable<typeof register>).lookup;
      app.addHook('onClose', async () => register?.close());
      const hashes = pool ? pool.hashes : (value: string) => subjectHashes(value, keys);
      const findBySubject = batchedSubjectLookup(ctx.store);
      const accepted = async () => new Set([...ZORGCONTEXT_CODES, ...(await agreementsOf()).exchanges.flatMap((e) => e.dataCategories)]);
      const fhir = { 'content-type': 'application/fhir+json' };

      app.get('/.well-known/pseudonym-recipient', async () => ({ recipientOrganization: keys.audience, recipientScope: keys.scope }));

      const transact = async (request: FastifyRequest, body: unknown) =>
        processTransaction(body, { store: ctx.store, custodians: callerCustodians(request), acceptedCategories: await accepted(), hashes });

      app.post('/', { preHandler: requireScope(NVI_WRITE_SCOPE) }, async (request, reply) => reply.headers(fhir).send(await transact(request, request.body)));

      app.post('/List', { preHandler: requireScope(NVI_WRITE_SCOPE) }, async (request, reply) => {
        const result = await transact(request, { resourceType: 'Bundle', type: 'transaction', entry: [{ resource: request.body, request: { method: 'POST', url: 'List' } }] });
        const r = result.entry?.[0]?.response;
        const referral = await readReferral(ctx.store, (r?.location ?? '').slice('List/'.length));
        if (!referral) throw notFound('referral vanished');
        return reply.code(r?.status?.startsWith('201') ? 201 : 200).headers({ ...fhir, location: `${ctx.baseUrl}/${r?.location}` }).send(referralToList(referral, { includeSource: true }));
      });

      app.get('/List', { preHandler: requireScope(NVI_READ_SCOPE) }, async (request, reply) => {
        const query = request.query as Record<string, string>;
        const q = strictParams(query, NVI_SEARCH_KEYS);
        const subjectRaw = q.get('subject:identifier');
        const sourceRaw = q.get('source:identifier');
        if ((subjectRaw ? 1 : 0) + (sourceRaw ? 1 : 0) !== 1) throw badRequest('search with either subject:identifier or source:identifier');
        if ((subjectRaw?.length ?? 0) > 1 || (sourceRaw?.length ?? 0) > 1 || (q.get('code')?.length ?? 0) > 1) throw badRequest('each parameter at most once');
        const category = parseCodeParam(q.get('code')?.[0]);
        let bundle: Bundle;
        if (subjectRaw) {
          const value = parseSubjectParam(subjectRaw[0]);
          const allowed = await allowedCategories(await agreementsOf(), request.token ? scopesOf(request.token) : [], request.headers[EXCHANGE_HEADER] as string | undefined, () =>
            standingOf(callerCustodians(request)[0]),
          );
          if (allowed.length === 0) {
            throw forbidden(`name an exchange you are qualified to request in (access-token exchange scope or ${EXCHANGE_HEADER} header): lookups return only its data categories`);
          }
          let subject: Awaited<ReturnType<typeof hashes>>;
          try {
            subject = await hashes(value);
          } catch (err) {
            if (err instanceof SubjectRefused) throw new SubjectRefused(`subject:identifier refused: ${err.message}`, { status: 400, expression: ['subject:identifier'] });
            throw err;
          }
          const found = await findBySubject(subject, allowed, category);
          // No self link: it would repeat the single-use pseudonym token.
          bundle = { resourceType: 'Bundle', type: 'searchset', total: found.length, entry: found.map((r) => ({ fullUrl: `${ctx.baseUrl}/List/${r.id}`, resource: referralToList(r, { includeSource: false }), search: { mode: 'match' } })) };
        } else {
          const [custodian] = callerCustodians(request);
          const page = pageParams(query, { defaultCount: 100, maxCount: 1000 });
          const found = (await findBySource(ctx.store, custodian, parseSourceParam((sourceRaw as string[])[0]), page)).filter((r) => category === undefined || r.category === category);
          bundle = { resourceType: 'Bundle', type: 'searchset', entry: found.map((r) => ({ fullUrl: `${ctx.baseUrl}/List/${r.id}`, resource: referralToList(r, { includeSource: true }), search: { mode: 'match' } })) };
        }
        return reply.headers(fhir).send(bundle);
      });

      app.get('/List/:id', { preHandler: requireScope(NVI_READ_SCOPE) }, async (request, reply) => {
        const referral = await readReferral(ctx.store, (request.params as { id: string }).id);
        if (!referral || !callerCustodians(request).includes(referral.custodian)) throw notFound('no such referral of yours');
        return reply.headers(fhir).send(referralToList(referral, { includeSource: true }));
      });

      app.delete('/List/:id', { preHandler: requireScope(NVI_WRITE_SCOPE) }, async (request, reply) => {
        const result = await withdrawById(ctx.store, (request.params as { id: string }).id, callerCustodians(request)[0]);
        if (result === 'not-custodian') throw forbidden('you may delete only your own referrals');
        return reply.code(204).send();
      });

    },
    async stop() {
      await stopAnnouncing?.();
      await pool?.close();
      pool = undefined;
    },
  };
}
