import { readCertificateIdentity } from '../kit/pki/certificates.ts';
import type { Bundle, OperationOutcome } from '@medplum/fhirtypes';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { importJWK, type JWK } from 'jose';
import { auditLogMigrations, redactBsns } from '../audit/contract.ts';
import { HttpConsentOracle } from '../consent/contract.ts';
import { badRequest, forbidden, HttpError } from '../kit/fhir/outcome.ts';
import { PartClient, type UpstreamError } from '../kit/http/client.ts';
import { SYSTEM } from '../kit/identifiers/systems.ts';
import type { PartContext, PartDefinition } from '../kit/part.ts';
import { startAgreementsSource, TrustTokenProvider, verklaringVerifier } from '../trust/contract.ts';
import { continueTrace } from '../kit/trace.ts';
import { EMERGENCY_HEADER } from '../node/contract.ts';
import { AssertionError, type HcpAssertion, verifyHcpAssertion } from './assertion.ts';
import { crossBorderAuditLog } from './audit.ts';
import { callingMember, type RunningGateway, startGateway } from './gateway.ts';
import { DemographicsError, demographicsMatch, parseDemographics, patientsOf } from './identification.ts';
import { NCPEH_JWKS_PATH, signNationalAssertion } from './national-assertion.ts';
import { type CrossBorderService, mapForeignRole } from './roles.ts';
import { transcodeSummary } from './terms/index.ts';
import { type SignedTrustList, type TrustListContent, verifyTrustList } from './trust-list.ts';
import { countryName } from './countries.ts';
import { findOrder, openOrders, transcodeOrder } from './eprescription.ts';
import { registerOutgoingSummary } from './outgoing.ts';
import { ncpehSettingsOf } from './serve-settings.ts';

// NCPeH-NL, the Dutch national contact point for eHealth, as a part of the network. Towards the
// other member states it is the country of affiliation (NCP-A): its gateway answers a foreign
// contact point's requests for a Dutch patient's summary and open prescriptions, and takes
// back dispensations. Towards the Dutch network it is an organisation like any other requester:
// it asks its node's data-integration function ($summary, $overview) with its own certificate and
// an assertion naming the foreign professional in the Dutch role the agreements map hers to,
// so every holder applies its own policy, the patient's consent and its audit.

export const NCPEH_ASSERTION_HEADER = 'ncp-hcp-assertion';
/** The one refusal for unknown, mismatched or not-shared patients: it reveals nothing. */
export const NO_MATCH = 'no patient matches the identifier and demographics given, or no data can be provided for this patient';
const BSN_SYSTEM = SYSTEM.bsn;
/** How the overview words a holder that failed, timed out or could not check consent (src/node/consumer/overview.ts). */
const HOLDER_FAILURE = /no answer within|timeout|timed out|could not be checked|failed|unavailable|^incomplete:/i;

export interface NcpehOptions {
  country?: string;
  /** The signed trust list (verified at start; refused when any member's signature fails). */
  trustList: SignedTrustList;
  /** This NCPeH's private ES256 JWK (assertions inside NL, its trust-list signature). */
  signingKey: JWK;
  gateway: { cert: string; key: string; host: string; port: number };
  /** Base URL of the NCPeH organisation on its node, https://…/org/<URA>. */
  nodeTenantUrl: () => string;
  /** Fan-out deadline for one request (ms). */
  deadlineMs?: number;
}

export interface NcpehRuntime {
  gateway?: RunningGateway;
  list?: TrustListContent;
}

class Refusal extends HttpError {}

export function createNcpehPart(o: NcpehOptions): PartDefinition & { runtime: NcpehRuntime } {
  const own = o.country ?? 'NL';
  const runtime: NcpehRuntime = {};
  const closers: Array<() => Promise<void>> = [];
  return {
    name: 'ncpeh',
    schema: 'ncpeh',
    migrations: auditLogMigrations,
    publicPaths: [NCPEH_JWKS_PATH],
    runtime,
    async register(app: FastifyInstance, ctx: PartContext) {
      const settings = ncpehSettingsOf(ctx.settings);
      const list = await verifyTrustList(o.trustList);
      runtime.list = list;
      const { d: _d, ...publicJwk } = o.signingKey;
      const kid = `ncpeh:${own}:national`;
      const signingKey = await importJWK(o.signingKey, 'ES256');
      const ura = readCertificateIdentity(ctx.tls.cert).ura;
      const patientKey = await ctx.keys.secret('ncpeh-patient-key', { make: () => Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('base64url') });
      const audit = crossBorderAuditLog(ctx.store, patientKey);
      const trustTokens = new TrustTokenProvider({ tls: ctx.tls, ura, tokenEndpoint: () => `${ctx.network.url('trust')}/oauth/token` });
      const trustClient = new PartClient({ tls: ctx.tls, tokens: trustTokens });
      const nodeTokens = new TrustTokenProvider({ tls: ctx.tls, ura, tokenEndpoint: () => `${new URL(o.nodeTenantUrl()).origin}/oauth/token` });
      const nodeClient = new PartClient({ tls: ctx.tls, tokens: nodeTokens, maxRetries: 0, defaultDeadlineMs: o.deadlineMs ?? 30_000 });
      closers.push(async () => {
        await trustClient.close();
        await nodeClient.close();
      });
      const consent = new HttpConsentOracle(trustClient, () => ctx.network.url('consent'), { deadlineMs: 10_000 });
      const agreements = await startAgreementsSource({ trustUrl: () => ctx.network.url('trust'), client: trustClient, refreshMs: settings.agreementsRefreshMs, log: ctx.log });
      closers.unshift(async () => agreements.stop());
      const exchangeOf = async (code: string) => {
        const exchange = agreements.current().exchanges.find((e) => e.code === code);
        if (!exchange) throw new Error(`the agreements hold no ${code} exchange`);
        return exchange;
      };

      // The other direction: Dutch clinicians asking for a foreign patient's summary (outgoing.ts).
      const verklaring = verklaringVerifier({ network: ctx.network, client: () => trustClient, issuer: settings.identityIssuer, jwks: settings.identityJwks });
      const outgoing = registerOutgoingSummary(app, {
        own,
        list,
        signingKey,
        gatewayTls: { cert: o.gateway.cert, key: o.gateway.key },
        audit,
        verifyVerklaring: (jwt, organisationUra) => verklaring(jwt, { ura: organisationUra } as Parameters<typeof verklaring>[1]),
        admittedRoles: async () => (await exchangeOf('ips')).requesterRoles,
        deadlineMs: o.deadlineMs ?? 30_000,
      });
      closers.push(() => outgoing.close());

      app.get(NCPEH_JWKS_PATH, async (_request, reply) =>
        reply.header('cache-control', 'public, max-age=300').send({ keys: [{ ...publicJwk, kid, alg: 'ES256', use: 'sig' }] }),
      );

      /** Who asks, from the gateway certificate and the foreign NCPeH's assertion; the Dutch role, or refused. */
      const caller = async (request: FastifyRequest, service: CrossBorderService) => {
        const member = callingMember(request, list, own);
        const header = request.headers[NCPEH_ASSERTION_HEADER];
        let hcp: HcpAssertion;
        try {
          hcp = await verifyHcpAssertion(typeof header === 'string' ? header : '', list, member.country, own);
        } catch (err) {
          await audit.record({ service: service === 'eprescription' ? 'eprescription-list' : 'patient-summary', country: member.country, side: 'country-of-affiliation', outcome: 'refused', reason: (err as Error).message });
          throw err instanceof AssertionError ? err : new HttpError(401, 'security', (err as Error).message);
        }
        const role = mapForeignRole(hcp.role, service);
        return { member, hcp, role };
      };

      /** The consent registry's closed question for the NCPeH as requester: a reason to refuse, or null (deny on error). */
      const consentRefusal = async (bsn: string, exchange: { code: string; consentEventCode: string; purposeOfUse: string }, uziRole: string, hcp: HcpAssertion): Promise<string | null> => {
        try {
          const answer = await consent.closedQuestion({
            bsn,
            holderUra: ura,
            holderType: 'NCP',
            requesterUra: ura,
            requesterType: 'NCP',
            requesterRole: uziRole,
            requesterId: `${hcp.country}-${hcp.professionalId}`,
            purposeOfUse: exchange.purposeOfUse,
            eventCode: exchange.consentEventCode,
            exchange: exchange.code,
          });
          // A citizen's own objection to this requester refuses; the network default is left to
          // the holders (each asks again for its own data).
          return answer.decision === 'Deny' && answer.rule.kind === 'record' ? 'cross-border sharing refused by the patient' : null;
        } catch (err) {
          return `consent could not be checked: ${redactBsns((err as Error).message)}`;
        }
      };

      /** Why an answer holds no usable patient record, for the log (never abroad): the overview's issue codes and texts. */
      const problemsOf = (bundle: Bundle) =>
        (bundle.entry ?? [])
          .map((e) => e.resource)
          .filter((r): r is OperationOutcome => r?.resourceType === 'OperationOutcome')
          .flatMap((o) => o.issue.map((i) => redactBsns(`${i.code}: ${i.diagnostics ?? ''}`)))
          .concat(((bundle.entry?.[0]?.resource as { extension?: Array<{ valueString?: string }> } | undefined)?.extension ?? []).map((e) => redactBsns(e.valueString ?? '')))
          .slice(0, 10);

      const nationalCall = async <T>(path: string, hcp: HcpAssertion, uziRole: string, scope: string, request: FastifyRequest) => {
        const assertion = await signNationalAssertion({ hcp, uziRole, ncpehUra: ura, countryName: countryName(hcp.country, 'nl') }, signingKey, kid);
        const base = o.nodeTenantUrl();
        // Emergency as the agreements state it: a foreign emergency breaks the glass only in an
        // exchange that allows emergency access (the ips exchange does not); an objection holds anyway.
        const emergency = hcp.purpose === 'EMERGENCY' && (await exchangeOf(scope)).emergencyAccess;
        return nodeClient.call<T>(`${base}/fhir/${path}`, {
          scope,
          resource: base,
          userAssertion: assertion,
          headers: {
            'dezi-verklaring': assertion,
            ...(emergency ? { [EMERGENCY_HEADER]: encodeURIComponent(`Spoed in het buitenland (${countryName(hcp.country, 'nl')})`) } : {}),
          },
          trace: request.trace,
        });
      };

      const refuse = async (service: 'patient-summary' | 'eprescription-list', hcp: HcpAssertion, bsn: string | undefined, reason: string, traceId: string) => {
        await audit.record({ service, country: hcp.country, side: 'country-of-affiliation', professional: { id: hcp.professionalId, name: hcp.professionalName, role: hcp.role, organization: hcp.organizationName }, patientId: bsn, outcome: 'refused', reason, traceId });
        return new Refusal(404, 'not-found', NO_MATCH);
      };

      const gateway = await startGateway({ ...o.gateway, list: () => list, ownCountry: own, log: ctx.log }, (gw) => {
        gw.addHook('onRequest', async (request) => {
          // The gateway has no kit hooks: continue the caller's W3C trace (or start one) for the calls it makes.
          const header = request.headers.traceparent;
          request.trace = continueTrace(typeof header === 'string' ? header : undefined);
        });

        // Patient summary (the foreign doctor's request, NCP-B → NCP-A).
        gw.post<{ Body: { patient?: unknown; language?: string } }>('/ncp/patient-summary', async (request, reply) => {
          const { member, hcp, role } = await caller(request, 'patient-summary');
          const professional = { id: hcp.professionalId, name: hcp.professionalName, role: hcp.role, organization: hcp.organizationName };
          if (!role) {
            await audit.record({ service: 'patient-summary', country: member.country, side: 'country-of-affiliation', professional, outcome: 'refused', reason: `role ${hcp.role} has no mapping for the patient summary` });
            throw forbidden(`the professional role ${hcp.role} is not one the Dutch agreements let see a patient summary`);
          }
          let demographics: ReturnType<typeof parseDemographics>;
          try {
            demographics = parseDemographics(request.body?.patient);
          } catch (err) {
            throw err instanceof DemographicsError ? err : badRequest((err as Error).message);
          }
          const language = typeof request.body?.language === 'string' && /^[a-z]{2}(-[A-Z]{2})?$/.test(request.body.language) ? request.body.language : 'en';
          const traceId = request.trace.traceId;
          const exchange = await exchangeOf('ips');
          const withheld = await consentRefusal(demographics.bsn, exchange, role.uziRole, hcp);
          if (withheld) throw await refuse('patient-summary', hcp, demographics.bsn, withheld, traceId);
          let r: Awaited<ReturnType<typeof nationalCall<Bundle | OperationOutcome>>>;
          try {
            r = await nationalCall<Bundle | OperationOutcome>(`Patient/$summary?identifier=${encodeURIComponent(`${BSN_SYSTEM}|${demographics.bsn}`)}`, hcp, role.uziRole, 'ips', request);
          } catch (err) {
            await audit.record({ service: 'patient-summary', country: member.country, side: 'country-of-affiliation', professional, patientId: demographics.bsn, outcome: 'failed', reason: (err as UpstreamError).message, traceId });
            throw new HttpError(504, 'timeout', 'the Dutch network did not answer in time');
          }
          if (r.status !== 200 || r.body?.resourceType !== 'Bundle') {
            await audit.record({ service: 'patient-summary', country: member.country, side: 'country-of-affiliation', professional, patientId: demographics.bsn, outcome: 'failed', reason: `node answered ${r.status}`, traceId });
            throw new HttpError(502, 'exception', 'the Dutch network could not assemble the summary');
          }
          // Identification: only a record that agrees on every demographic sent is confirmed.
          const summary = r.body as Bundle;
          const records = patientsOf(summary).filter((p) => p.name || p.birthDate);
          if (records.length === 0) {
            // Nothing released a patient record (none known, or every holder withheld it): said in the log, not abroad.
            const problems = problemsOf(summary);
            ctx.log.warn({ event: 'ncpeh.no-record', traceId, problems }, 'no patient record in the assembled summary');
            // Holders that failed or ran out of time are said out loud (try again), never passed off
            // as "no such patient"; a patient no holder knows, or who withheld, stays the one refusal.
            if (problems.some((p) => HOLDER_FAILURE.test(p))) {
              await audit.record({ service: 'patient-summary', country: member.country, side: 'country-of-affiliation', professional, patientId: demographics.bsn, outcome: 'failed', reason: 'Dutch holders failed or timed out', traceId });
              throw new HttpError(503, 'transient', 'the Dutch network could not assemble the summary in time; try again', { headers: { 'retry-after': '10' } });
            }
            throw await refuse('patient-summary', hcp, demographics.bsn, 'no patient record in the Dutch network\'s answer', traceId);
          }
          if (!demographicsMatch(demographics, records)) throw await refuse('patient-summary', hcp, demographics.bsn, 'demographics do not match a patient record', traceId);
          const document = transcodeSummary(summary, { country: member.country, language });
          await audit.record({ service: 'patient-summary', country: member.country, side: 'country-of-affiliation', professional, patientId: demographics.bsn, outcome: 'answered', traceId });
          return reply.type('application/fhir+json').send(document);
        });

        /** The patient's open prescriptions from the Dutch holders, for a foreign pharmacist (after identification and consent). */
        const openPrescriptions = async (request: FastifyRequest<{ Body: { patient?: unknown } }>, service: 'eprescription-list' | 'edispensation') => {
          const { member, hcp, role } = await caller(request, 'eprescription');
          const professional = { id: hcp.professionalId, name: hcp.professionalName, role: hcp.role, organization: hcp.organizationName };
          if (!role) {
            await audit.record({ service, country: member.country, side: 'country-of-affiliation', professional, outcome: 'refused', reason: `role ${hcp.role} has no mapping for ePrescription` });
            throw forbidden(`the professional role ${hcp.role} is not one the Dutch agreements let see prescriptions`);
          }
          let demographics: ReturnType<typeof parseDemographics>;
          try {
            demographics = parseDemographics(request.body?.patient);
          } catch (err) {
            throw err instanceof DemographicsError ? err : badRequest((err as Error).message);
          }
          const traceId = request.trace.traceId;
          const exchange = await exchangeOf('medicatieoverdracht');
          const refuseHere = async (reason: string) => {
            await audit.record({ service, country: member.country, side: 'country-of-affiliation', professional, patientId: demographics.bsn, outcome: 'refused', reason, traceId });
            return new Refusal(404, 'not-found', NO_MATCH);
          };
          const withheld = await consentRefusal(demographics.bsn, exchange, role.uziRole, hcp);
          if (withheld) throw await refuseHere(withheld);
          let r: Awaited<ReturnType<typeof nationalCall<Bundle | OperationOutcome>>>;
          try {
            r = await nationalCall<Bundle | OperationOutcome>(`Patient/$overview?identifier=${encodeURIComponent(`${BSN_SYSTEM}|${demographics.bsn}`)}&exchange=${exchange.code}`, hcp, role.uziRole, exchange.code, request);
          } catch (err) {
            await audit.record({ service, country: member.country, side: 'country-of-affiliation', professional, patientId: demographics.bsn, outcome: 'failed', reason: (err as UpstreamError).message, traceId });
            throw new HttpError(504, 'timeout', 'the Dutch network did not answer in time');
          }
          if (r.status !== 200 || r.body?.resourceType !== 'Bundle') {
            await audit.record({ service, country: member.country, side: 'country-of-affiliation', professional, patientId: demographics.bsn, outcome: 'failed', reason: `node answered ${r.status}`, traceId });
            throw new HttpError(502, 'exception', 'the Dutch network could not list the prescriptions');
          }
          const overview = r.body as Bundle;
          const records = patientsOf(overview);
          if (records.length === 0) {
            const problems = problemsOf(overview);
            ctx.log.warn({ event: 'ncpeh.no-record', traceId, problems }, 'no patient record in the assembled overview');
            if (problems.some((p) => HOLDER_FAILURE.test(p))) {
              await audit.record({ service, country: member.country, side: 'country-of-affiliation', professional, patientId: demographics.bsn, outcome: 'failed', reason: 'Dutch holders failed or timed out', traceId });
              throw new HttpError(503, 'transient', 'the Dutch network could not list the prescriptions in time; try again', { headers: { 'retry-after': '10' } });
            }
            throw await refuseHere('no patient record in the Dutch network\'s answer');
          }
          if (!demographicsMatch(demographics, records)) throw await refuseHere('demographics do not match a patient record');
          const open = openOrders(overview);
          return { member, hcp, role, professional, demographics, open, traceId };
        };

        // ePrescription: the list the foreign pharmacy dispenses from.
        gw.post<{ Body: { patient?: unknown } }>('/ncp/eprescriptions', async (request, reply) => {
          const { member, professional, demographics, open, traceId } = await openPrescriptions(request, 'eprescription-list');
          await audit.record({ service: 'eprescription-list', country: member.country, side: 'country-of-affiliation', professional, patientId: demographics.bsn, outcome: 'answered', traceId });
          const bundle: Bundle = {
            resourceType: 'Bundle',
            type: 'searchset',
            total: open.length,
            entry: open.map((o) => ({ resource: transcodeOrder(o.order, member.country), search: { mode: 'match' } })),
          };
          return reply.type('application/fhir+json').send(bundle);
        });

        // eDispensation: what the foreign pharmacy handed out, back to the prescriber's node.
        gw.post<{ Body: { patient?: unknown; dispense?: { prescription?: unknown; quantity?: unknown; whenHandedOver?: unknown } } }>('/ncp/edispensations', async (request, reply) => {
          const { member, hcp, role, professional, demographics, open, traceId } = await openPrescriptions(request, 'edispensation');
          const wanted = request.body?.dispense?.prescription;
          // Only a prescription the list just gave for this patient: nothing the foreign side names is taken on trust.
          const found = findOrder(open, wanted);
          if (!found) {
            await audit.record({ service: 'edispensation', country: member.country, side: 'country-of-affiliation', professional, patientId: demographics.bsn, outcome: 'refused', reason: 'no such open prescription', traceId });
            throw new HttpError(404, 'not-found', 'no open prescription of this patient has that identifier');
          }
          const assertion = await signNationalAssertion({ hcp, uziRole: role!.uziRole, ncpehUra: ura, countryName: countryName(hcp.country, 'nl') }, signingKey, kid);
          const target = found.source;
          const holderBase = target.holderFhirBase.replace(/\/fhir$/, '');
          const tokens = new TrustTokenProvider({ tls: ctx.tls, ura, tokenEndpoint: `${new URL(holderBase).origin}/oauth/token` });
          const client = new PartClient({ tls: ctx.tls, tokens, maxRetries: 0, defaultDeadlineMs: o.deadlineMs ?? 30_000 });
          let delivered: Awaited<ReturnType<typeof client.call>>;
          try {
            delivered = await client.call(`${holderBase}/cross-border/MedicationDispense`, {
              method: 'POST',
              scope: 'medicatieoverdracht',
              resource: holderBase,
              userAssertion: assertion,
              trace: request.trace,
              body: { bsn: demographics.bsn, prescription: target.id, dispense: request.body?.dispense },
              headers: { 'content-type': 'application/json' },
            });
          } catch (err) {
            await audit.record({ service: 'edispensation', country: member.country, side: 'country-of-affiliation', professional, patientId: demographics.bsn, outcome: 'failed', reason: (err as Error).message, traceId });
            throw new HttpError(504, 'timeout', 'the prescriber could not be reached');
          } finally {
            await client.close();
            await tokens.close?.();
          }
          const ok = delivered.status === 201;
          await audit.record({ service: 'edispensation', country: member.country, side: 'country-of-affiliation', professional, patientId: demographics.bsn, outcome: ok ? 'answered' : delivered.status < 500 ? 'refused' : 'failed', reason: ok ? undefined : `prescriber answered ${delivered.status}`, traceId });
          if (!ok) return reply.code(delivered.status < 500 ? delivered.status : 502).type('application/fhir+json').send(delivered.body);
          return reply.code(201).type('application/fhir+json').send(delivered.body);
        });
      });
      runtime.gateway = gateway;
      closers.push(() => gateway.close());
      ctx.log.info({ url: gateway.url }, 'NCPeH cross-border gateway listening');
    },
    async stop() {
      for (const c of closers.splice(0)) await c().catch(() => {});
    },
  };
}
