import type { FastifyRequest } from 'fastify';
import { forbidden, HttpError } from '../../kit/fhir/outcome.ts';
import { continueTrace } from '../../kit/trace.ts';
import type { PartContext, PartDefinition } from '../../kit/part.ts';
import { AssertionError, type HcpAssertion, verifyHcpAssertion } from '../assertion.ts';
import { crossBorderAuditLog } from '../audit.ts';
import { callingMember, type RunningGateway, startGateway } from '../gateway.ts';
import { type SignedTrustList, verifyTrustList } from '../trust-list.ts';
import { type BelgianPatient, belgianSummary } from './belgian-patients.ts';
import { IdentificationError, identify, parseForeignDemographics } from './national-register.ts';

// The second country as country of affiliation (NCP-A) for its own citizens: when a Dutch
// clinician asks through NCPeH-NL, Belgium's gateway accepts only a contact point the signed
// trust list names (its gateway certificate), checks that contact point's signed assertion of the
// professional with the key the list gives for it, admits only the occupations Belgium lets see
// a summary from abroad, identifies the patient by national register number and demographics
// (refusing unknown and mismatched alike) and answers with the patient's summary. Every request
// is in Belgium's own audit trail. It is added beside the country-of-treatment contact point
// (contact-point.ts) as one more listener of the same part.

export const NO_MATCH_BE = 'no person matches the national register number and demographics given';

export interface AffiliationOptions {
  country: string;
  trustList: SignedTrustList;
  /** Where this country's gateway listens for the other contact points, with its certificate. */
  gateway: { cert: string; key: string; host: string; port: number };
  patients: readonly BelgianPatient[];
  /** ISCO-08 occupations this country lets see a patient summary from abroad. */
  admittedRoles: readonly string[];
}

export interface AffiliationRuntime {
  gateway?: RunningGateway;
}

/** `part` plus this country's country-of-affiliation gateway, started and stopped with it. */
export function withCountryOfAffiliation(part: PartDefinition, o: AffiliationOptions): PartDefinition & { affiliation: AffiliationRuntime } {
  const affiliation: AffiliationRuntime = {};
  return {
    ...part,
    affiliation,
    async register(app, ctx: PartContext) {
      await part.register(app, ctx);
      const list = await verifyTrustList(o.trustList);
      const patientKey = await ctx.keys.secret('ncpeh-patient-key', { make: () => Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('base64url') });
      const audit = crossBorderAuditLog(ctx.store, patientKey);
      affiliation.gateway = await startGateway({ ...o.gateway, list: () => list, ownCountry: o.country, log: ctx.log }, (gw) => {
        gw.addHook('onRequest', async (request) => {
          const header = request.headers.traceparent;
          request.trace = continueTrace(typeof header === 'string' ? header : undefined);
        });
        gw.post<{ Body: { patient?: unknown } }>('/ncp/patient-summary', async (request: FastifyRequest<{ Body: { patient?: unknown } }>, reply) => {
          const member = callingMember(request, list, o.country);
          const traceId = request.trace.traceId;
          const record = (outcome: 'answered' | 'refused' | 'failed', extra: { hcp?: HcpAssertion; patientId?: string; reason?: string }) =>
            audit.record({
              service: 'patient-summary',
              country: member.country,
              side: 'country-of-affiliation',
              ...(extra.hcp ? { professional: { id: extra.hcp.professionalId, name: extra.hcp.professionalName, role: extra.hcp.role, organization: extra.hcp.organizationName } } : {}),
              patientId: extra.patientId,
              outcome,
              reason: extra.reason,
              traceId,
            });
          const header = request.headers['ncp-hcp-assertion'];
          let hcp: HcpAssertion;
          try {
            hcp = await verifyHcpAssertion(typeof header === 'string' ? header : '', list, member.country, o.country);
          } catch (err) {
            await record('refused', { reason: (err as Error).message });
            throw err instanceof AssertionError ? err : new HttpError(401, 'security', (err as Error).message);
          }
          if (!o.admittedRoles.includes(hcp.role)) {
            await record('refused', { hcp, reason: `occupation ${hcp.role} is not admitted to patient summaries from abroad` });
            throw forbidden(`the occupation ${hcp.role} is not one ${o.country} lets see a patient summary`);
          }
          let demographics: ReturnType<typeof parseForeignDemographics>;
          try {
            demographics = parseForeignDemographics(request.body?.patient);
          } catch (err) {
            await record('refused', { hcp, reason: (err as Error).message });
            throw err instanceof IdentificationError ? err : new HttpError(400, 'invalid', (err as Error).message);
          }
          const person = identify(demographics, o.patients);
          if (!person) {
            // The reason stays in this country's log; the asker gets the one refusal.
            const known = o.patients.some((p) => p.insz === demographics.id);
            await record('refused', { hcp, patientId: demographics.id, reason: known ? 'demographics do not match the national register' : 'no such national register number' });
            throw new HttpError(404, 'not-found', NO_MATCH_BE);
          }
          const patient = o.patients.find((p) => p.insz === person.insz) as BelgianPatient;
          await record('answered', { hcp, patientId: person.insz });
          return reply.type('application/fhir+json').send(belgianSummary(patient));
        });
      });
      ctx.log.info({ url: affiliation.gateway.url, country: o.country }, 'country-of-affiliation gateway listening');
    },
    async stop() {
      await affiliation.gateway?.close().catch(() => {});
      await part.stop?.();
    },
  };
}
