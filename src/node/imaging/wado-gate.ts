import type { Patient } from '@medplum/fhirtypes';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { buildAuditEvent, localPatientReference } from '../../audit/contract.ts';
import type { Pdp } from '../../consent/contract.ts';
import { LdnError } from '../../kit/errors.ts';
import { badRequest, forbidden, HttpError, notFound } from '../../kit/fhir/outcome.ts';
import { SYSTEM } from '../../kit/identifiers/systems.ts';
import { formatTraceparent } from '../../kit/trace.ts';
import { type AccessTokenClaims, exchangeOfScopes } from '../../trust/contract.ts';
import type { NodeEnvironment, NodeTenant } from '../environment.ts';
import type { EhrConnector } from '../source/ehr-connector.ts';
import { logAccessOrDeny, requesterSeenByHolder } from '../source/access-log.ts';
import { decideSearch, decodeReason, EMERGENCY_HEADER } from '../source/holder-api.ts';
import type { DicomWebArchive } from './archive-client.ts';
import { isDicomUid } from './dicom-json.ts';

// WADO-RS through the node's enforcement point: /org/<URA>/dicomweb/studies/<uid>[/...]. Every
// study is decided on its own: the access token (bound to the caller's certificate, for this
// tenant, in an exchange that covers images), then the study's patient (archive PatientID →
// EHR Patient → BSN) through the same policy decision as a search (agreements, qualification,
// consent), then an audit event, and only then the archive's bytes. The decision is kept for
// one token and one study at most a minute, so a viewer fetching fifty frames is decided and
// audited once, not fifty times; a new token or another study is decided afresh.

export const WADO_BASE = '/dicomweb';
const DECISION_TTL_MS = 60_000;
const MAX_KEPT_DECISIONS = 10_000;

/** The retrieves the gate passes on below /studies/<uid> (PS3.18 10.4): no search, no store. */
const UID = '(?:0|[1-9][0-9]*)(?:\\.(?:0|[1-9][0-9]*))*';
const RETRIEVE_PATH = new RegExp(
  `^(?:/rendered|/thumbnail|/metadata|/series/${UID}(?:/rendered|/thumbnail|/metadata|/instances/${UID}(?:/rendered|/thumbnail|/metadata|/frames/[1-9][0-9]{0,5}(?:,[1-9][0-9]{0,5}){0,99}(?:/rendered)?)?)?)?$`,
);

export function isRetrievePath(rest: string): boolean {
  return rest.length <= 400 && RETRIEVE_PATH.test(rest) && rest.split('/').filter((p) => /^[0-9.]+$/.test(p) && p.includes('.')).every(isDicomUid);
}

export interface WadoGateOptions {
  tenants: Map<string, NodeTenant>;
  env: NodeEnvironment;
  pdp: Pdp;
  connectors: Map<string, EhrConnector>;
  archives: Map<string, DicomWebArchive>;
  verifyToken(request: FastifyRequest, tenant: NodeTenant): Promise<AccessTokenClaims>;
  baseUrl(): string;
}

export async function registerWadoGate(app: FastifyInstance, o: WadoGateOptions): Promise<void> {
  const allowed = new Map<string, number>(); // token id | tenant | study → until

  async function admit(request: FastifyRequest, tenant: NodeTenant, archive: DicomWebArchive, study: string, rest: string): Promise<void> {
    const claims = await o.verifyToken(request, tenant);
    const key = `${claims.jti}|${tenant.ura}|${study}`;
    if ((allowed.get(key) ?? 0) > Date.now()) return;
    const exchange = exchangeOfScopes(o.env.agreements(), claims.scope.split(' '));
    const emergencyReason = decodeReason(request.headers[EMERGENCY_HEADER]);
    let bsn: string | undefined;
    let patientRef: string | undefined;
    let refusal: HttpError | undefined;
    let emergency = false;
    let categories: string[] = [];
    try {
      if (!exchange) throw forbidden('the access token carries no exchange scope');
      if (!exchange.queries.some((q) => q.resourceType === 'ImagingStudy')) throw forbidden(`the ${exchange.code} exchange does not cover images`);
      const patientId = await archive.patientOfStudy(study);
      if (!patientId) throw notFound('this organisation holds no such study');
      const patient = await o.connectors
        .get(tenant.ura)!
        .read<Patient>('Patient', patientId)
        .catch(() => undefined);
      bsn = patient?.identifier?.find((i) => i.system === SYSTEM.bsn)?.value;
      patientRef = patient ? `Patient/${patientId}` : undefined;
      if (!bsn) throw forbidden('the study is not filed under a patient the network can name: refused');
      const decision = await decideSearch(o, tenant, claims, exchange.code, 'ImagingStudy', { 'patient:identifier': `${SYSTEM.bsn}|${bsn}` }, bsn, emergencyReason);
      emergency = decision.allow && decision.emergency === true;
      categories = decision.dataCategories ?? [];
      if (!decision.allow || !categories.includes('Imaging')) {
        const why = decision.allow ? 'images are not among the permitted data categories' : decision.reasons.map((r) => r.description).join('; ');
        throw forbidden(`access to this study denied: ${why}`);
      }
    } catch (err) {
      refusal = err instanceof LdnError ? err : new HttpError(500, 'exception', 'internal error');
    }
    const event = buildAuditEvent({
      who: requesterSeenByHolder(claims, tenant),
      what: { exchange: exchange?.code ?? 'none', dataCategories: categories.includes('Imaging') ? ['Imaging'] : categories, interaction: 'read', query: `WADO-RS studies/${study}${rest}`, side: 'holder' },
      patient: { localReference: localPatientReference(patientRef, 'request', request.trace.traceId) },
      why: { purposeOfUse: emergency ? 'ETREAT' : 'TREAT', emergencyReason: emergency ? emergencyReason : undefined },
      outcome: refusal ? (refusal.status >= 500 ? 'serious-failure' : 'minor-failure') : 'success',
      outcomeDescription: refusal ? `refused (${refusal.status}): ${refusal.message}` : undefined,
      traceparent: formatTraceparent(request.trace),
    });
    // Deny on error: an access that could not be logged releases nothing (503).
    await logAccessOrDeny(o.env, event, bsn ? { bsn } : undefined, request.log);
    if (refusal) throw refusal;
    if (allowed.size >= MAX_KEPT_DECISIONS) allowed.clear();
    allowed.set(key, Math.min(Date.now() + DECISION_TTL_MS, claims.exp * 1000));
  }

  async function serve(request: FastifyRequest<{ Params: { ura: string; study: string; '*'?: string } }>, reply: FastifyReply) {
    const tenant = o.tenants.get(request.params.ura);
    if (!tenant) throw notFound(`this node serves no organisation with URA ${request.params.ura}`);
    const archive = o.archives.get(tenant.ura);
    if (!archive) throw notFound(`${tenant.name} publishes no images through this node`);
    const study = request.params.study;
    const rest = request.params['*'] ? `/${request.params['*']}` : '';
    if (!isDicomUid(study)) throw badRequest('the study must be named by its Study Instance UID');
    if (!isRetrievePath(rest)) throw badRequest('only WADO-RS retrieves of this study (rendered, thumbnail, metadata, series, instances, frames) are served');
    await admit(request, tenant, archive, study, rest);
    const accept = typeof request.headers.accept === 'string' ? request.headers.accept : '*/*';
    const gaveUp = new AbortController();
    reply.raw.once('close', () => gaveUp.abort());
    const res = await archive.retrieve(`/studies/${study}${rest}`, accept, gaveUp.signal).catch((err: Error) => {
      throw new HttpError(502, 'transient', err.message);
    });
    if (res.status >= 500) {
      res.body.resume();
      throw new HttpError(502, 'transient', `the image archive answered HTTP ${res.status}`);
    }
    if (res.status !== 200 && res.status !== 206) {
      res.body.resume();
      throw new HttpError(res.status === 406 ? 406 : 404, res.status === 406 ? 'not-supported' : 'not-found', `the image archive answered HTTP ${res.status}`);
    }
    const type = String(res.headers['content-type'] ?? 'application/octet-stream');
    reply.code(res.status).header('content-type', type).header('cache-control', 'no-store');
    if (rest.endsWith('/metadata')) {
      // Bulk-data and retrieve URLs in the metadata name the archive: they are rewritten to this gate.
      const chunks: Buffer[] = [];
      for await (const c of res.body) chunks.push(c as Buffer);
      const gate = `${o.baseUrl()}/org/${tenant.ura}${WADO_BASE}`;
      return reply.send(Buffer.concat(chunks).toString('utf8').split(archive.root).join(gate));
    }
    if (res.headers['content-length']) reply.header('content-length', res.headers['content-length']);
    return reply.send(res.body);
  }

  app.get(`/org/:ura${WADO_BASE}/studies/:study`, serve);
  app.get(`/org/:ura${WADO_BASE}/studies/:study/*`, serve);
}
