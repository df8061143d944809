import { prsOpenApi } from './openapi.ts';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { badRequest, forbidden } from '../kit/fhir/outcome.ts';
import type { PartContext, PartDefinition } from '../kit/part.ts';
import { evaluateForRecipient } from './evaluate.ts';
import { isRecipientScope } from './input.ts';
import { evaluateResearch, parseResearchRequest } from './research.ts';
import { type RegisterParticipant, type ResearchPermitGate, researchPermitGate } from './research-permit.ts';
import { HDAB_JWKS_PATH, HDAB_PART, hdabKeys, permitVerifier } from '../secondary-use/contract.ts';
import { PartClient } from '../kit/http/client.ts';
import { KeyRing, parseVersions } from './keyring.ts';
import { sodiumReady } from './sodium.ts';
import { acceptRecipientJwk, prsMigrations, putRecipientKey, recipientKeyId, recipientKeyLookup } from './recipient-keys.ts';
import { changeFeed } from '../kit/store/change-feed.ts';
import { type TokenGuardOptions, tokenGuard } from './token-guard.ts';
import { prsSettingsOf } from './serve-settings.ts';

// The pseudonym service (PRS) as a part. It sees only blinded group elements and never which data
// exists; it logs no input value (request logging is off, and errors never quote the element).
//   POST /oprf/eval            {encryptedPersonalId, recipientOrganization, recipientScope} → {jwe}
//   POST /oprf/research-eval   {encryptedPersonalId, permit: JWS} → {evaluated} (research.ts; permit and caller checked, research-permit.ts)
//   PUT  /recipients/<ura>/key {scope, jwk}  a recipient registers its own JWE key (mTLS URA = <ura>)
// Settings: PRS_MASTER_SEED (hex, ≥32 bytes), PRS_KEY_VERSIONS ("1,2": all active, highest current),
// PRS_TOKEN_TTL_SECONDS (≤300), TOKENS (required|off; default required).

export const PRS_EVAL_SCOPE = 'prs:eval';
const SEED_FILE = 'prs-master-seed';

export interface PrsOptions extends TokenGuardOptions {
  seed?: Uint8Array;
  versions?: number[];
  /** The permit and caller check of research evaluations; by default the network's HDAB and trust register. */
  researchPermits?: ResearchPermitGate;
}

/** The check against the network's HDAB (permit keys) and trust register (caller); refuses all without them. */
function networkResearchGate(ctx: PartContext, client: () => PartClient): ResearchPermitGate {
  const has = (part: string) => ctx.network.has(part);
  const jwks = hdabKeys(() => client().json(`${ctx.network.url(HDAB_PART)}${HDAB_JWKS_PATH}`, { deadlineMs: 5000 }));
  const participants = new Map<string, { at: number; p: RegisterParticipant | null }>();
  const gate = researchPermitGate({
    verify: permitVerifier({ issuer: () => ctx.network.url(HDAB_PART), jwks }),
    async participant(ura) {
      const hit = participants.get(ura);
      if (hit && Date.now() - hit.at < 10_000) return hit.p;
      const r = await client().call<RegisterParticipant>(`${ctx.network.url('trust')}/participants/${encodeURIComponent(ura)}`, { deadlineMs: 5000 });
      if (r.status !== 200 && r.status !== 404) throw new Error(`trust register answered ${r.status}`);
      const p = r.status === 200 ? r.body : null;
      if (participants.size > 1000) participants.clear();
      participants.set(ura, { at: Date.now(), p });
      return p;
    },
  });
  return async (jws, caller) => {
    if (!has(HDAB_PART) || !has('trust')) throw forbidden('no research pseudonyms: this network has no health data access body');
    return gate(jws, caller);
  };
}

/**
 * The master seed: PRS_MASTER_SEED when the operator supplies it, else the one kept (sealed) in
 * the PRS's store, created once. A PRS that has served recipients and lost its seed refuses to
 * start: a new seed would silently change every pseudonym in the network.
 */
async function loadSeed(ctx: PartContext): Promise<Uint8Array> {
  const supplied = prsSettingsOf(ctx.settings).masterSeed;
  if (supplied && !/^([0-9a-f]{2}){32,}$/i.test(supplied)) throw new Error('PRS_MASTER_SEED must be at least 32 bytes of hex');
  const hex = await ctx.keys.secret('prs-master-seed', {
    supplied: supplied ? { value: supplied, from: 'PRS_MASTER_SEED' } : undefined,
    legacyFile: ctx.dataDir ? join(ctx.dataDir, SEED_FILE) : undefined,
    hasData: async () => (await ctx.store.query('SELECT 1 FROM recipient_keys LIMIT 1')).length > 0,
    make: () => randomBytes(32).toString('hex'),
  });
  return new Uint8Array(Buffer.from(hex.trim(), 'hex'));
}

export function createPrsPart(options: PrsOptions = {}): PartDefinition {
  let unsubscribe: (() => Promise<void>) | undefined;
  return {
    name: 'prs',
    schema: 'prs',
    migrations: prsMigrations,
    capability: {
      description: 'LDN pseudonym service: RFC 9497 OPRF (ristretto255-SHA512), results encrypted to the recipient (JWE)',
      resources: [],
      // The OPRF evaluation is not a FHIR operation: it is described in OpenAPI.
      openApiPath: '/openapi.json',
    },
    openApi: prsOpenApi,
    async register(app, ctx) {
      const settings = prsSettingsOf(ctx.settings);
      await sodiumReady();
      const seed = options.seed ?? (await loadSeed(ctx));
      const keyring = new KeyRing({ seed, versions: options.versions ?? parseVersions(settings.keyVersions) });
      const ttlSeconds = settings.tokenTtlSeconds;
      const recipientKey = recipientKeyLookup(ctx.store);
      // Several PRS instances over one database: a key registered at one is used at once by all.
      const feed = changeFeed(ctx.store);
      unsubscribe = await feed.subscribe('recipient_keys', (id) => recipientKey.invalidate(id));
      const requireScope = tokenGuard(app, ctx, options);

      app.post('/oprf/eval', { preHandler: requireScope(PRS_EVAL_SCOPE) }, async (request) =>
        evaluateForRecipient(request.body, { keyring, recipientKey, ttlSeconds }),
      );

      // Research pseudonyms (research.ts): the holder is its own recipient; the same localisation
      // scope as care pseudonyms, which only care providers hold.
      // The permit is checked (HDAB signature, expiry) and so is the caller (a holder): the domain is
      // the verified permit's id, never one the caller names.
      let http: PartClient | undefined;
      const researchGate = options.researchPermits ?? networkResearchGate(ctx, () => (http ??= new PartClient({ tls: ctx.tls })));
      app.addHook('onClose', async () => http?.close());
      app.post('/oprf/research-eval', { preHandler: requireScope(PRS_EVAL_SCOPE) }, async (request) => {
        const { encryptedPersonalId, permit } = parseResearchRequest(request.body);
        const claims = await researchGate(permit, request.token?.sub ?? request.peer?.ura);
        return evaluateResearch(encryptedPersonalId, claims.jti, seed);
      });

      app.put('/recipients/:ura/key', async (request, reply) => {
        const { ura } = request.params as { ura: string };
        if (!/^\d{8}$/.test(ura)) throw badRequest('URA must be 8 digits');
        if (request.peer?.ura !== ura) throw forbidden('a recipient registers only its own key (URA of the client certificate)');
        const body = (request.body ?? {}) as { scope?: unknown; jwk?: unknown };
        if (typeof body.scope !== 'string' || !isRecipientScope(body.scope)) throw badRequest('scope must be a short lowercase token', ['scope']);
        const { jwk, kid } = acceptRecipientJwk(body.jwk);
        const created = await putRecipientKey(ctx.store, `ura:${ura}`, body.scope, jwk, kid);
        await feed.notify('recipient_keys', recipientKeyId(`ura:${ura}`, body.scope));
        ctx.log.info({ event: 'prs.recipient-key', recipient: `ura:${ura}`, scope: body.scope, kid }, 'recipient key registered');
        return reply.code(created ? 201 : 200).send({ recipientOrganization: `ura:${ura}`, recipientScope: body.scope, kid });
      });
    },
    async stop() {
      await unsubscribe?.();
    },
  };
}

/** The PRS as the sandbox starts it (seed from settings or data directory, key version 1). */
export const prsPart: PartDefinition = createPrsPart();
