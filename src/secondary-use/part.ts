import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyRequest } from 'fastify';
import { badRequest, forbidden, HttpError, unprocessable } from '../kit/fhir/outcome.ts';
import { PartClient } from '../kit/http/client.ts';
import { peerFromDer } from '../kit/http/peer.ts';
import type { PartContext, PartDefinition, Peer } from '../kit/part.ts';
import { pemToDer } from '../kit/pki/certificates.ts';
import { TrustTokenProvider } from '../trust/contract.ts';
import { parsePermitApplication } from './application.ts';
import { auditHdab, permitTrail } from './audit.ts';
import { DEFAULT_MIN_CELL, HDAB_JWKS_PATH, HDAB_ORGANIZATION_TYPE, RESEARCH_ORGANIZATION_TYPE, RESEARCHER_VERKLARING_HEADER } from './contract.ts';
import { extractFromHolder, type HolderOutcome, type HolderTarget, holdersFromDirectory } from './extraction.ts';
import { HDAB_MIGRATIONS } from './migrations.ts';
import { permitSigner } from './permit-jws.ts';
import { type Permit, PermitStore } from './permits.ts';
import { type Actor, type ActorOptions, actorOf, networkActorOptions } from './researcher.ts';
import { Workspaces } from './workspace.ts';
import { hdabSettingsOf } from './serve-settings.ts';

// The health-data access body (EHDS): research organisations apply for data permits, the operator
// grants or refuses them, the HDAB extracts a granted permit's cohort from the holders (Bulk Data,
// contract.ts) into the permit's workspace, and the researcher queries it there; only
// disclosure-checked aggregates leave. Every step checks the signed permit again.

export { RESEARCH_ORGANIZATION_TYPE } from './contract.ts';

export interface HdabOptions {
  /** Who may apply: by default an admitted participant of type RSCH in the trust register. */
  isResearchOrganisation?: (ura: string) => Promise<boolean>;
  /** Which holders to ask; by default those the directory lists (extraction.ts). */
  holders?: (categories: readonly string[]) => Promise<HolderTarget[]>;
  /** The researcher portal's certificate (sandbox: its thumbprint); default: setting researcher_portal_thumbprint. */
  isResearcherPortal?: (peer: Peer) => boolean;
  /** Who is calling (tests); default: certificates, and researchers' verklaringen through the portal (researcher.ts). */
  actor?: ActorOptions;
  /** How often expired permits are looked for (ms); default 60 s. */
  expiryIntervalMs?: number;
  now?: () => Date;
}

export interface HdabRuntime {
  permits: PermitStore;
  workspaces: Workspaces;
  /** The running extraction of a permit, if any (tests wait on it). */
  extraction(permitId: string): Promise<void> | undefined;
  /** Expires due permits and destroys their workspaces now. */
  expireNow(): Promise<string[]>;
}

export function createHdabPart(options: HdabOptions = {}): PartDefinition & { runtime(): HdabRuntime | undefined } {
  let runtime: HdabRuntime | undefined;
  let timer: NodeJS.Timeout | undefined;
  const clients: PartClient[] = [];
  const running = new Map<string, Promise<void>>();
  let workspaces: Workspaces | undefined;
  return {
    name: 'hdab',
    schema: 'hdab',
    migrations: HDAB_MIGRATIONS,
    publicPaths: ['/.well-known/'],
    runtime: () => runtime,

    async register(app, ctx) {
      const settings = hdabSettingsOf(ctx.settings);
      const now = options.now ?? (() => new Date());
      const store = ctx.store;
      const permits = new PermitStore(store);
      // One HDAB instance runs the extractions (STUB: no lease for several instances over one store).
      await permits.failInterrupted();
      const signer = await permitSigner(ctx);
      const operatorUra = settings.operatorUra;
      const operatorSystem = settings.operatorSystemNumber;
      const ownUra = uraOf(ctx);
      const root = settings.workspaceDir ?? (ctx.dataDir ? join(ctx.dataDir, 'workspaces') : mkdtempSync(join(tmpdir(), 'ldn-hdab-')));
      workspaces = new Workspaces(root);
      const ws = workspaces;

      const plain = new PartClient({ tls: ctx.tls, maxRetries: 0 });
      const trustUrl = () => ctx.network.url('trust');
      const tokens = new TrustTokenProvider({
        tls: ctx.tls,
        ura: ownUra ?? '',
        client: plain,
        // Central parts take tokens from the trust framework; every node runs its own authorisation server.
        tokenEndpoint: (resource) =>
          ctx.network.has('directory') && resource.startsWith(ctx.network.url('directory')) ? `${trustUrl()}/oauth/token` : `${new URL(resource).origin}/oauth/token`,
      });
      const client = new PartClient({ tls: ctx.tls, tokens, maxRetries: 1 });
      clients.push(plain, client);

      const researchTypeCache = new Map<string, { ok: boolean; at: number }>();
      const isResearchOrganisation =
        options.isResearchOrganisation ??
        (async (ura: string) => {
          const hit = researchTypeCache.get(ura);
          if (hit && Date.now() - hit.at < 30_000) return hit.ok;
          const r = await plain.call<{ status?: string; organizationType?: string }>(`${trustUrl()}/participants/${encodeURIComponent(ura)}`, { deadlineMs: 5000 });
          const ok = r.status === 200 && r.body.status === 'admitted' && r.body.organizationType === RESEARCH_ORGANIZATION_TYPE;
          researchTypeCache.set(ura, { ok, at: Date.now() });
          return ok;
        });

      const isOperator = (request: FastifyRequest) =>
        request.peer?.ura === operatorUra && request.peer.systemNumber === operatorSystem && request.headers[RESEARCHER_VERKLARING_HEADER] === undefined;
      const resolveActor = actorOf(options.actor ?? networkActorOptions(ctx, () => plain, options.isResearcherPortal));
      /** The organisation the call acts for (and the researcher behind a portal call). */
      const actor = (request: FastifyRequest): Promise<Actor> => resolveActor(request.peer, request.headers[RESEARCHER_VERKLARING_HEADER]);
      const researcherDetail = (a: Actor): Record<string, string> => (a.researcher ? { researcher: a.researcher.deziNumber } : {});
      /** The permit, if the caller may see it: its applicant or the operator (no one learns of another's). */
      const visible = async (request: FastifyRequest<{ Params: { id: string } }>): Promise<Permit> => {
        const { ura } = await actor(request);
        const permit = await permits.get(request.params.id).catch(() => undefined);
        if (!permit || (!isOperator(request) && permit.applicantUra !== ura)) throw new HttpError(404, 'not-found', `permit ${request.params.id} does not exist`);
        return permit;
      };
      /** Every use of a permit checks its signed form again: signature, issuer, nbf and exp. */
      const inForce = async (permit: Permit): Promise<void> => {
        if (permit.status !== 'granted' || !permit.jws) throw forbidden(`permit ${permit.id} is ${permit.status}, not granted`);
        try {
          await signer.verify(permit.jws, ctx.baseUrl, now());
        } catch (err) {
          throw forbidden(`permit ${permit.id} is not in force: ${(err as Error).message}`);
        }
      };

      app.get(HDAB_JWKS_PATH, async (_request, reply) => reply.header('cache-control', 'public, max-age=300').send(signer.jwks));

      app.post('/permits', async (request, reply) => {
        const who = await actor(request);
        const ura = who.ura;
        if (!(await isResearchOrganisation(ura))) throw forbidden(`URA ${ura} is not an admitted research organisation (participant type ${RESEARCH_ORGANIZATION_TYPE})`);
        const application = parsePermitApplication(request.body, now());
        const permit = await permits.apply(ura, application);
        await auditHdab(store, { action: 'permit.apply', permitId: permit.id, actorUra: ura, outcome: 'success', detail: { purpose: application.purpose, ...researcherDetail(who) } });
        return reply.code(201).header('location', `${ctx.baseUrl}/permits/${permit.id}`).send(view(permit));
      });

      app.get('/permits', async (request) => {
        const { ura } = await actor(request);
        return { permits: (await permits.list(isOperator(request) ? undefined : ura)).map(view) };
      });

      app.get<{ Params: { id: string } }>('/permits/:id', async (request) => view(await visible(request)));

      app.post<{ Params: { id: string } }>('/permits/:id/decision', async (request) => {
        if (!isOperator(request)) throw forbidden('only the HDAB operator decides on permits');
        const body = request.body as { decision?: unknown; reason?: unknown } | undefined;
        if (body?.decision !== 'grant' && body?.decision !== 'refuse') throw badRequest('decision must be grant or refuse', ['decision']);
        if (typeof body.reason !== 'string' || !body.reason.trim() || body.reason.length > 2000) throw badRequest('reason is required (text)', ['reason']);
        const grant = body.decision === 'grant';
        const permit = await permits.decide(request.params.id, { grant, by: `${request.peer!.ura}/${request.peer!.systemNumber}`, reason: body.reason.trim() }, { signer, issuer: ctx.baseUrl, now: now() });
        await auditHdab(store, { action: grant ? 'permit.grant' : 'permit.refuse', permitId: permit.id, actorUra: request.peer!.ura, outcome: 'success', detail: { reason: body.reason.trim() } });
        return view(permit);
      });

      app.post<{ Params: { id: string } }>('/permits/:id/extraction', async (request, reply) => {
        if (!isOperator(request)) throw forbidden('only the HDAB operator starts an extraction');
        const permit = await visible(request);
        try {
          await inForce(permit);
        } catch (err) {
          await auditHdab(store, { action: 'extraction', permitId: permit.id, actorUra: request.peer!.ura, outcome: 'refused', detail: { reason: (err as Error).message } });
          throw err;
        }
        if (running.has(permit.id) || permit.workspace === 'extracting') throw new HttpError(409, 'conflict', `permit ${permit.id} is being extracted already`);
        await permits.setWorkspace(permit.id, 'extracting');
        const job = extract(permit)
          .catch(async (err) => {
            ctx.log.error({ err, permit: permit.id }, 'extraction failed');
            await permits.setWorkspace(permit.id, 'failed', { error: (err as Error).message });
            await auditHdab(store, { action: 'extraction', permitId: permit.id, actorUra: ownUra ?? '', outcome: 'failed', detail: { reason: (err as Error).message } });
          })
          .finally(() => running.delete(permit.id));
        running.set(permit.id, job);
        return reply.code(202).header('content-location', `${ctx.baseUrl}/permits/${permit.id}`).send(view({ ...permit, workspace: 'extracting' }));
      });

      app.post<{ Params: { id: string } }>('/permits/:id/query', async (request) => {
        const permit = await visible(request);
        const who = await actor(request);
        // Only the research organisation works in its own workspace; the operator does not read it.
        if (isOperator(request) || permit.applicantUra !== who.ura) throw forbidden('only the permit holder queries its workspace');
        const sql = (request.body as { sql?: unknown } | undefined)?.sql;
        if (typeof sql !== 'string' || !sql.trim() || sql.length > 20_000) throw badRequest('sql is required (one SELECT, at most 20000 characters)', ['sql']);
        const actorUra = permit.applicantUra;
        try {
          await inForce(permit);
          if (permit.workspace !== 'ready') throw unprocessable(`the workspace of permit ${permit.id} is ${permit.workspace}`);
          const release = await ws.query(permit.id, sql, permit.application.minCell ?? DEFAULT_MIN_CELL);
          await auditHdab(store, { action: 'query', permitId: permit.id, actorUra, outcome: 'success', detail: { sql, ...researcherDetail(who) } });
          await auditHdab(store, {
            action: 'release',
            permitId: permit.id,
            actorUra,
            outcome: 'success',
            detail: { cells: JSON.stringify(release.released), suppressed: String(release.suppressed), minCell: String(release.minCell) },
          });
          return release;
        } catch (err) {
          await auditHdab(store, { action: 'query', permitId: permit.id, actorUra, outcome: 'refused', detail: { sql, reason: (err as Error).message.slice(0, 500), ...researcherDetail(who) } });
          throw err;
        }
      });

      app.get<{ Params: { id: string } }>('/permits/:id/audit', async (request) => {
        const permit = await visible(request);
        return { resourceType: 'Bundle', type: 'collection', entry: (await permitTrail(store, permit.id)).map((resource) => ({ resource })) };
      });

      async function extract(permit: Permit): Promise<void> {
        const a = permit.application;
        const targets = options.holders ? await options.holders(a.categories) : await holdersFromDirectory(client, ctx.network.url('directory'), a.categories);
        const outcomes: HolderOutcome[] = [];
        const files: Parameters<Workspaces['load']>[1][number][] = [];
        let transactionTime: string | undefined;
        // A few holders at a time: each export is a long job on the holder's side.
        const queue = [...targets];
        await Promise.all(
          Array.from({ length: Math.min(4, queue.length) }, async () => {
            for (let t = queue.shift(); t; t = queue.shift()) {
              const r = await extractFromHolder(client, t, { permitJws: permit.jws!, types: a.types });
              outcomes.push(r.outcome);
              files.push(...r.files);
              if (r.transactionTime && (!transactionTime || r.transactionTime > transactionTime)) transactionTime = r.transactionTime;
            }
          }),
        );
        // The permit may have ended meanwhile: nothing is loaded for an expired permit.
        await inForce(await permits.get(permit.id));
        const report = await ws.load(permit.id, files, { precision: a.datePrecision, types: a.types, transactionTime: transactionTime ?? now().toISOString() });
        const extraction = { at: now().toISOString(), holders: outcomes, resources: report.resources, refusedFiles: report.refused };
        await permits.setWorkspace(permit.id, 'ready', extraction);
        await auditHdab(store, {
          action: 'extraction',
          permitId: permit.id,
          actorUra: ownUra ?? '',
          outcome: 'success',
          detail: { holders: JSON.stringify(outcomes), resources: String(report.resources), refusedFiles: JSON.stringify(report.refused) },
        });
      }

      async function expireNow(): Promise<string[]> {
        const expired = await permits.expireDue(now());
        for (const id of expired) await auditHdab(store, { action: 'permit.expire', permitId: id, actorUra: ownUra ?? '', outcome: 'success' });
        for (const id of await permits.workspacesToDestroy()) {
          await running.get(id)?.catch(() => undefined);
          await ws.destroy(id);
          await permits.setWorkspace(id, 'destroyed');
          await auditHdab(store, { action: 'workspace.destroy', permitId: id, actorUra: ownUra ?? '', outcome: 'success' });
        }
        return expired;
      }

      timer = setInterval(() => void expireNow().catch((err) => ctx.log.error({ err }, 'permit expiry failed')), options.expiryIntervalMs ?? settings.expiryIntervalMs);
      timer.unref();
      runtime = { permits, workspaces: ws, extraction: (id) => running.get(id), expireNow };
    },

    async stop() {
      if (timer) clearInterval(timer);
      await Promise.allSettled([...running.values()]);
      await workspaces?.close();
      for (const c of clients) await c.close();
    },
  };
}

/** What a permit's applicant and the operator see: never the workspace's contents. */
function view(p: Permit) {
  return {
    id: p.id,
    applicant: p.applicantUra,
    status: p.status,
    application: { ...p.application, periodStart: p.application.periodStart.toISOString(), periodEnd: p.application.periodEnd.toISOString() },
    appliedAt: p.appliedAt,
    ...(p.decidedAt ? { decidedAt: p.decidedAt, decisionReason: p.decisionReason } : {}),
    ...(p.jws ? { permit: p.jws } : {}),
    workspace: p.workspace,
    ...(p.extraction ? { extraction: p.extraction } : {}),
  };
}

function uraOf(ctx: PartContext): string | undefined {
  try {
    return peerFromDer(pemToDer(ctx.tls.cert))?.ura || undefined;
  } catch {
    return undefined;
  }
}

export const hdabPart = createHdabPart();
export { HDAB_ORGANIZATION_TYPE };
