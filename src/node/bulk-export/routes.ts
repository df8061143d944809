import { randomUUID } from 'node:crypto';
import type { Patient, Resource } from '@medplum/fhirtypes';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { badRequest, forbidden, HttpError, notFound } from '../../kit/fhir/outcome.ts';
import type { PartContext } from '../../kit/part.ts';
import {
  type BulkManifest,
  EXPORT_PARAM_PERMIT,
  EXPORT_PARAM_TYPE,
  EXPORT_SCOPE,
  HDAB_ORGANIZATION_TYPE,
  NDJSON_CONTENT_TYPE,
  PREFER_RESPOND_ASYNC,
  PROGRESS_HEADER,
  PURPOSE_RESEARCH,
  type PermitClaims,
  RESEARCH_EVENT_CODE,
  RESEARCH_REQUESTER_ROLE,
  RESEARCH_REQUESTER_TYPE,
} from '../../secondary-use/contract.ts';
import { type AccessTokenClaims, scopesOf } from '../../trust/contract.ts';
import type { NodeEnvironment, NodeTenant, SecondaryUsePorts } from '../environment.ts';
import type { EhrConnector } from '../source/ehr-connector.ts';
import { logAccessOrDeny } from '../source/access-log.ts';
import { researchCategoriesOf } from './categories.ts';
import { type ExportSource, runExport } from './extract.ts';
import { researchUseEvent } from './research-use-event.ts';
import { type ExportJob, JobStore } from './jobs.ts';
import { hdabKeys, PermitRefused, permitVerifier } from './permit.ts';
import { nodeSettingsOf } from '../serve-settings.ts';

// The holder's FHIR Bulk Data $export for secondary use (contract in src/secondary-use/):
//   POST   /org/<URA>/fhir/$export                 kick-off (Prefer: respond-async, Parameters{permit,_type}) → 202 + Content-Location
//   GET    /org/<URA>/fhir/$export-status/<id>     202 + X-Progress while running, 200 + manifest when done
//   DELETE /org/<URA>/fhir/$export-status/<id>     cancel; files removed
//   GET    /org/<URA>/fhir/$export-file/<id>/<n>   one NDJSON file, handed out once
// Every call: the caller's certificate is an admitted HDAB participant with an EXPORT_SCOPE token
// from this node; the kick-off also carries a permit the HDAB signed. Refusals are 401/403.

export interface BulkExportOptions {
  ctx: PartContext;
  env: NodeEnvironment;
  tenants: Map<string, NodeTenant>;
  connectors: Map<string, EhrConnector>;
  verifyToken(request: FastifyRequest, tenant: NodeTenant): Promise<AccessTokenClaims>;
  /** How long a job and its files are kept (ms); default one day, never past the permit's expiry. */
  retentionMs?: number;
  /** Resources per NDJSON file. */
  fileSize?: number;
  /** How often an instance looks for jobs whose instance stopped (ms); 0 = never. */
  takeOverMs?: number;
  /** How long a running job's lease lasts without renewal (ms) before another instance takes it over. */
  leaseMs?: number;
}

export interface BulkExport {
  /** Running extractions (tests wait for them). */
  idle(): Promise<void>;
  stop(): Promise<void>;
}

const PAGE = 100;

/**
 * Reads a tenant's patients page by page and each patient's resources, through the EHR connector.
 * With condition criteria only the patients with such a Condition are read (one code search first):
 * the EHR, not the node, narrows a large population down to the cohort's candidates.
 */
export function ehrExportSource(connector: EhrConnector): ExportSource {
  type Page = { resourceType?: string; entry?: Array<{ resource?: Resource }>; link?: Array<{ relation: string; url: string }> };
  async function* pages(first: string): AsyncGenerator<Resource[]> {
    let url: string | undefined = first;
    for (let page = 0; url && page < 100_000; page++) {
      const bundle = (await connector.getJson(url)) as Page;
      if (bundle?.resourceType !== 'Bundle') throw new Error('EHR answered something other than a Bundle');
      yield (bundle.entry ?? []).map((e) => e.resource).filter((r): r is Resource => !!r);
      url = bundle.link?.find((l) => l.relation === 'next')?.url;
    }
  }
  return {
    async *patients(cohort) {
      if (!cohort.conditions?.length) {
        for await (const page of pages(`${connector.baseUrl}/Patient?_count=${PAGE}`)) yield page.filter((r): r is Patient => r.resourceType === 'Patient');
        return;
      }
      const code = cohort.conditions.map((c) => `${SNOMED}|${c}`).join(',');
      const ids = new Set<string>();
      for await (const page of pages(`${connector.baseUrl}/Condition?${new URLSearchParams({ code, _count: String(PAGE * 2) })}`)) {
        for (const r of page) {
          const id = /(?:^|\/)Patient\/([A-Za-z0-9.-]{1,64})$/.exec((r as { subject?: { reference?: string } }).subject?.reference ?? '')?.[1];
          if (id) ids.add(id);
        }
      }
      const all = [...ids];
      for (let i = 0; i < all.length; i += 50) {
        const chunk = all.slice(i, i + 50);
        const found = await connector.search('Patient', new URLSearchParams({ _id: chunk.join(','), _count: String(chunk.length) }));
        yield found.filter((r): r is Patient => r.resourceType === 'Patient');
      }
    },
    async resourcesOf(patientId, types) {
      const all = await Promise.all(types.map((t) => connector.search(t, new URLSearchParams({ patient: `Patient/${patientId}`, _count: '200' }))));
      return all.flat();
    },
  };
}

const SNOMED = 'http://snomed.info/sct';

interface Caller {
  tenant: NodeTenant;
  hdabUra: string;
}

function parseKickOff(body: unknown): { permit: string; types?: string[] } {
  const b = body as { resourceType?: unknown; parameter?: unknown } | null;
  if (!b || typeof b !== 'object' || b.resourceType !== 'Parameters' || !Array.isArray(b.parameter)) throw badRequest('the kick-off body must be a FHIR Parameters resource');
  const value = (name: string) => {
    const found = (b.parameter as Array<{ name?: unknown; valueString?: unknown }>).filter((p) => p?.name === name);
    if (found.length > 1) throw badRequest(`parameter ${name} given more than once`, [name]);
    if (found.length && typeof found[0].valueString !== 'string') throw badRequest(`parameter ${name} must be a valueString`, [name]);
    return found[0]?.valueString as string | undefined;
  };
  const permit = value(EXPORT_PARAM_PERMIT);
  if (!permit) throw new HttpError(401, 'login', 'a data permit (parameter "permit") is required', { headers: { 'www-authenticate': 'Bearer error="invalid_request"' } });
  const type = value(EXPORT_PARAM_TYPE);
  const types = type === undefined ? undefined : type.split(',').map((t) => t.trim());
  if (types && (types.length === 0 || types.some((t) => !/^[A-Z][A-Za-z]{1,63}$/.test(t)))) throw badRequest('_type must list FHIR resource types', [EXPORT_PARAM_TYPE]);
  return { permit, types };
}

export async function registerBulkExport(app: FastifyInstance, o: BulkExportOptions): Promise<BulkExport> {
  const ports: SecondaryUsePorts | undefined = o.env.secondaryUse;
  const jobs = new JobStore(o.ctx.store, `${o.ctx.name}-${randomUUID()}`, o.leaseMs ?? nodeSettingsOf(o.ctx.settings).bulkExportLeaseMs);
  let stopping = false;
  const retentionMs = o.retentionMs ?? 24 * 3600_000;
  const running = new Set<Promise<unknown>>();
  const verify = ports ? permitVerifier({ issuer: () => ports.hdabUrl(), jwks: hdabKeys(() => ports.hdabJwks()) }) : undefined;
  const fhirBase = (ura: string) => `${o.ctx.baseUrl}/org/${ura}/fhir`;

  /** The caller is the HDAB: an admitted participant of that type, with an export token of this node. */
  const authorise = async (request: FastifyRequest<{ Params: { ura: string } }>): Promise<Caller> => {
    const tenant = o.tenants.get(request.params.ura);
    if (!tenant) throw notFound(`no organisation ${request.params.ura} on this node`);
    if (!ports) throw forbidden('this network has no health data access body: no exports');
    const claims = await o.verifyToken(request, tenant);
    if (!scopesOf(claims).includes(EXPORT_SCOPE)) throw forbidden(`a token with scope ${EXPORT_SCOPE} is required`);
    const ura = request.peer?.ura;
    if (!ura || claims.sub !== ura) throw forbidden('the token was not issued to this certificate\'s organisation');
    const participant = await o.env.participant(ura).catch(() => null);
    if (participant?.status !== 'admitted' || participant.type !== HDAB_ORGANIZATION_TYPE) throw forbidden('only the health data access body may export data for secondary use');
    return { tenant, hdabUra: ura };
  };

  const researchPermitted = async (job: ExportJob, bsn: string): Promise<boolean> => {
    const tenant = o.tenants.get(job.tenantUra);
    if (!tenant || !ports) return false;
    const answer = await ports.researchConsent(tenant, {
      bsn,
      holderUra: tenant.ura,
      holderType: tenant.type,
      requesterUra: job.requesterUra,
      requesterType: RESEARCH_REQUESTER_TYPE,
      requesterRole: RESEARCH_REQUESTER_ROLE,
      requesterId: job.permitJti,
      purposeOfUse: PURPOSE_RESEARCH,
      eventCode: RESEARCH_EVENT_CODE,
    });
    return answer.decision === 'Permit';
  };

  const start = (job: ExportJob, permit: PermitClaims) => {
    // The category map from the agreements in force, made on first use inside the job (an
    // unreadable agreements document fails the job, never the kick-off's answer).
    let classify: ((r: Resource) => string[]) | undefined;
    const run = runExport(job, permit, {
      jobs,
      source: (ura) => {
        const c = o.connectors.get(ura);
        if (!c) throw new Error(`no EHR for ${ura}`);
        return ehrExportSource(c);
      },
      researchPermitted,
      pseudonym: (ura, bsn, p) => ports!.researchPseudonym(o.tenants.get(ura)!, bsn, p),
      categoriesOf: (r) => {
        classify ??= researchCategoriesOf(o.env.agreements());
        return classify(r);
      },
      // Per patient, before her data is buffered: an event that cannot be written fails the job.
      recordUse: (j, p, patient) => logAccessOrDeny(o.env, researchUseEvent(j, p, patient, o.ctx.name), { bsn: patient.bsn }, o.ctx.log),
      log: o.ctx.log,
      fileSize: o.fileSize,
      stopping: () => stopping,
    })
      .then(async (summary) => {
        o.ctx.log.info({ event: 'bulk-export.done', job: job.id, permit: job.permitJti, tenant: job.tenantUra, ...summary }, 'export finished');
        if (summary.outsideCategories) o.ctx.log.info({ event: 'bulk-export.outside-categories', job: job.id, resources: summary.outsideCategories }, 'resources outside the permit\'s data categories left home');
        await audit(job, 'done', summary.written);
      })
      .catch((err: Error) => o.ctx.log.error({ event: 'bulk-export.crashed', job: job.id, error: err.message }, 'export crashed'))
      .finally(() => running.delete(run));
    running.add(run);
  };

  // The job's own start and end: no patient's access (each patient's is recordUse above, through
  // access-log.ts), so a direct call that only warns when it fails; the rule test in
  // source/access-log.test.ts allows this one call.
  const audit = async (job: ExportJob, outcome: string, patients?: number) => {
    await o.env
      .audit({
        resourceType: 'AuditEvent',
        type: { system: 'http://dicom.nema.org/resources/ontology/DCM', code: '110106', display: 'Export' },
        action: 'R',
        recorded: new Date().toISOString(),
        outcome: outcome === 'refused' ? '4' : '0',
        outcomeDesc: `bulk export ${outcome} (permit ${job.permitJti}${patients !== undefined ? `, ${patients} patients` : ''})`,
        purposeOfEvent: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActReason', code: PURPOSE_RESEARCH }] }],
        agent: [{ who: { identifier: { system: 'http://fhir.nl/fhir/NamingSystem/ura', value: job.requesterUra } }, requestor: true }],
        source: { observer: { identifier: { system: 'http://fhir.nl/fhir/NamingSystem/ura', value: job.tenantUra } } },
        entity: [{ what: { identifier: { value: job.id } }, description: `permit ${job.permitJti}` }],
      })
      .catch((err: Error) => o.ctx.log.warn({ event: 'bulk-export.audit-failed', error: err.message }, 'audit event not written'));
  };

  app.post<{ Params: { ura: string }; Body: unknown }>('/org/:ura/fhir/$export', async (request, reply) => {
    const { tenant, hdabUra } = await authorise(request);
    const prefer = String(request.headers.prefer ?? '');
    if (!prefer.split(/[,;]\s*/).includes(PREFER_RESPOND_ASYNC)) throw badRequest(`the kick-off needs the header Prefer: ${PREFER_RESPOND_ASYNC}`);
    const body = typeof request.body === 'string' ? safeJson(request.body) : request.body;
    const kick = parseKickOff(body);
    let permit: PermitClaims;
    try {
      permit = await verify!(kick.permit);
    } catch (err) {
      if (err instanceof PermitRefused) {
        request.log.warn({ event: 'bulk-export.permit-refused', reason: err.message, peer: hdabUra }, 'permit refused');
        throw err; // coded ERR_HDAB_PERMIT_REFUSED, 403
      }
      throw err;
    }
    const types = kick.types ?? permit.types;
    const outside = types.filter((t) => !permit.types.includes(t));
    if (outside.length) throw forbidden(`the permit does not cover ${outside.join(', ')}`);
    const now = Date.now();
    const job: ExportJob = {
      id: randomUUID(),
      tenantUra: tenant.ura,
      permitJti: permit.jti,
      requesterUra: hdabUra,
      permit: kick.permit,
      types,
      requestUrl: `${fhirBase(tenant.ura)}/$export`,
      status: 'running',
      progress: '',
      error: null,
      transactionTime: new Date(now).toISOString(),
      expiresAt: new Date(Math.min(now + retentionMs, permit.exp * 1000)).toISOString(),
    };
    await jobs.create(job);
    await audit(job, 'started');
    start(job, permit);
    return reply
      .code(202)
      .header('content-location', `${fhirBase(tenant.ura)}/$export-status/${job.id}`)
      .type('application/fhir+json')
      .send({ resourceType: 'OperationOutcome', issue: [{ severity: 'information', code: 'informational', diagnostics: 'export accepted' }] });
  });

  /** The caller's own job on this tenant; anyone else's (or a removed one) is 404. */
  const ownJob = async (request: FastifyRequest<{ Params: { ura: string; id: string } }>): Promise<ExportJob> => {
    const caller = await authorise(request);
    const job = /^[0-9a-f-]{36}$/.test(request.params.id) ? await jobs.get(request.params.id) : null;
    if (!job || job.tenantUra !== caller.tenant.ura || job.requesterUra !== caller.hdabUra || job.status === 'cancelled') throw notFound('no such export');
    return job;
  };

  app.get<{ Params: { ura: string; id: string } }>('/org/:ura/fhir/$export-status/:id', async (request, reply) => {
    const job = await ownJob(request);
    if (job.status === 'running') return reply.code(202).header(PROGRESS_HEADER.toLowerCase(), job.progress || 'started').header('retry-after', '1').send();
    if (job.status === 'failed') {
      const permitProblem = /permit/.test(job.error ?? '');
      throw new HttpError(permitProblem ? 403 : 500, permitProblem ? 'forbidden' : 'exception', `the export failed: ${job.error ?? 'unknown error'}`);
    }
    const files = await jobs.files(job.id);
    const url = (seq: number) => `${fhirBase(job.tenantUra)}/$export-file/${job.id}/${seq}`;
    const manifest: BulkManifest = {
      transactionTime: job.transactionTime,
      request: job.requestUrl,
      requiresAccessToken: true,
      output: files.filter((f) => f.type !== 'OperationOutcome').map((f) => ({ type: f.type, url: url(f.seq), count: f.count })),
      error: files.filter((f) => f.type === 'OperationOutcome').map((f) => ({ type: f.type, url: url(f.seq), count: f.count })),
    };
    return reply.code(200).type('application/json').send(manifest);
  });

  app.delete<{ Params: { ura: string; id: string } }>('/org/:ura/fhir/$export-status/:id', async (request, reply) => {
    const job = await ownJob(request);
    await jobs.cancel(job.id);
    await audit(job, 'cancelled');
    return reply.code(202).send();
  });

  app.get<{ Params: { ura: string; id: string; seq: string } }>('/org/:ura/fhir/$export-file/:id/:seq', async (request, reply) => {
    const job = await ownJob(request);
    if (job.status !== 'done' || !/^\d{1,6}$/.test(request.params.seq)) throw notFound('no such file');
    const body = await jobs.takeFile(job.id, Number(request.params.seq));
    if (body === null) throw notFound('no such file (already downloaded or expired)');
    return reply.code(200).type(NDJSON_CONTENT_TYPE).send(body);
  });

  // Expired jobs go with their files; jobs whose instance stopped are taken over by this one.
  const takeOverMs = o.takeOverMs ?? nodeSettingsOf(o.ctx.settings).bulkExportTakeoverMs;
  const tick = async () => {
    await jobs.sweep().catch(() => 0);
    if (!verify) return;
    for (const job of await jobs.takeOver().catch(() => [])) {
      try {
        start(job, await verify(job.permit));
      } catch (err) {
        await jobs.finish(job.id, 'failed', (err as Error).message);
      }
    }
  };
  const timer = takeOverMs > 0 ? setInterval(() => void tick(), takeOverMs) : undefined;
  timer?.unref();
  if (takeOverMs > 0) void tick();

  const idle = async () => {
    while (running.size) await Promise.allSettled([...running]);
  };
  return {
    idle,
    async stop() {
      // Running jobs stop between patients and keep their lease: another instance (or this node
      // after its restart) takes them over once it runs out.
      stopping = true;
      if (timer) clearInterval(timer);
      await idle();
    },
  };
}

/** Settings bulk_export_takeover_ms / bulk_export_lease_ms: whole milliseconds, else a start-up error. */

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw badRequest('the kick-off body is not JSON');
  }
}
