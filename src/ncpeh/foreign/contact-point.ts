import type { Bundle } from '@medplum/fhirtypes';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { importJWK, type JWK } from 'jose';
import { Agent, request as undiciRequest } from 'undici';
import { auditLogMigrations } from '../../audit/contract.ts';
import { badRequest, forbidden, HttpError } from '../../kit/fhir/outcome.ts';
import { formatTraceparent } from '../../kit/trace.ts';
import type { PartContext, PartDefinition } from '../../kit/part.ts';
import { type CrossBorderPurpose, signHcpAssertion } from '../assertion.ts';
import { crossBorderAuditLog } from '../audit.ts';
import { memberOf, type SignedTrustList, verifyTrustList } from '../trust-list.ts';

// The other member state's contact point (country of treatment, NCP-B) as the sandbox plays it:
// its own hospitals and pharmacies call it over their own country's mutual TLS; it vouches for
// their professional with a signed assertion and asks the patient's country of affiliation
// through that country's gateway, which it finds and trusts only through the signed trust list.
// It keeps its own audit trail of every request it relays.

export const NCPEH_ASSERTION_HEADER = 'ncp-hcp-assertion';

export interface ForeignOrganization {
  /** The organisation's number in its certificate (the kit's certificate profile). */
  id: string;
  name: string;
  kind: 'hospital' | 'pharmacy';
}

export interface ForeignContactPointOptions {
  country: string;
  trustList: SignedTrustList;
  signingKey: JWK;
  /** The gateway certificate this contact point presents to the others. */
  gateway: { cert: string; key: string };
  /** Organisations of this country allowed to ask (its own register). */
  organizations: ForeignOrganization[];
  deadlineMs?: number;
}

interface Professional {
  id: string;
  name: string;
  /** ISCO-08 */
  role: string;
}

function professionalOf(body: unknown): Professional {
  const p = (body as { professional?: Record<string, unknown> } | undefined)?.professional;
  if (!p || typeof p.id !== 'string' || typeof p.name !== 'string' || typeof p.role !== 'string' || !p.id || !p.name || !p.role) {
    throw badRequest('professional.id, professional.name and professional.role (ISCO-08) are required');
  }
  return { id: p.id, name: p.name, role: p.role };
}

export function createForeignContactPoint(o: ForeignContactPointOptions): PartDefinition {
  const closers: Array<() => Promise<void>> = [];
  return {
    name: `ncpeh-${o.country.toLowerCase()}`,
    schema: `ncpeh_${o.country.toLowerCase()}`,
    migrations: auditLogMigrations,
    async register(app: FastifyInstance, ctx: PartContext) {
      const list = await verifyTrustList(o.trustList);
      const key = await importJWK(o.signingKey, 'ES256');
      const patientKey = await ctx.keys.secret('ncpeh-patient-key', { make: () => Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('base64url') });
      const audit = crossBorderAuditLog(ctx.store, patientKey);
      const agents = new Map<string, Agent>();
      closers.push(async () => {
        for (const a of agents.values()) await a.close();
      });
      const agentFor = (country: string) => {
        const member = memberOf(list, country);
        if (!member) throw forbidden(`${country} is not on the trust list`);
        let agent = agents.get(country);
        if (!agent) {
          agent = new Agent({ connect: { cert: o.gateway.cert, key: o.gateway.key, ca: member.caCert } });
          agents.set(country, agent);
        }
        return { member, agent };
      };
      const organization = (request: FastifyRequest, kind: ForeignOrganization['kind']) => {
        const org = o.organizations.find((x) => x.id === request.peer?.ura);
        if (!org || org.kind !== kind) throw forbidden(`only a ${kind} of ${o.country} may ask this`);
        return org;
      };

      /** One relayed request to the patient's country, audited here whatever its outcome. */
      const relay = async (request: FastifyRequest, input: { to: string; path: string; body: unknown; service: 'patient-summary' | 'eprescription-list' | 'edispensation'; kind: ForeignOrganization['kind']; purpose?: CrossBorderPurpose; patientId?: string }) => {
        const org = organization(request, input.kind);
        const professional = professionalOf(request.body);
        const { member, agent } = agentFor(input.to);
        const assertion = await signHcpAssertion(
          { country: o.country, professionalId: professional.id, professionalName: professional.name, role: professional.role, organizationId: org.id, organizationName: org.name, purpose: input.purpose ?? 'TREATMENT' },
          input.to,
          key,
        );
        const record = (outcome: 'answered' | 'refused' | 'failed', reason?: string) =>
          audit.record({ service: input.service, country: input.to, side: 'country-of-treatment', professional: { ...professional, organization: org.name }, patientId: input.patientId, outcome, reason, traceId: request.trace.traceId });
        let status: number;
        let body: unknown;
        try {
          const r = await undiciRequest(`${member.gatewayUrl}${input.path}`, {
            method: 'POST',
            dispatcher: agent,
            headers: { 'content-type': 'application/json', [NCPEH_ASSERTION_HEADER]: assertion, traceparent: formatTraceparent(request.trace) },
            body: JSON.stringify(input.body),
            headersTimeout: o.deadlineMs ?? 30_000,
            bodyTimeout: o.deadlineMs ?? 30_000,
          });
          status = r.statusCode;
          body = await r.body.json().catch(() => undefined);
        } catch (err) {
          await record('failed', (err as Error).message);
          throw new HttpError(504, 'timeout', `the contact point of ${input.to} did not answer`);
        }
        await record(status < 300 ? 'answered' : status < 500 ? 'refused' : 'failed', status < 300 ? undefined : `answered ${status}`);
        return { status, body };
      };

      const patientIdOf = (body: unknown) => {
        const bsn = (body as { patient?: { bsn?: unknown } } | undefined)?.patient?.bsn;
        return typeof bsn === 'string' ? bsn : undefined;
      };
      const countryOf = (body: unknown) => {
        const c = (body as { country?: unknown } | undefined)?.country;
        if (typeof c !== 'string' || !/^[A-Z]{2}$/.test(c)) throw badRequest('country (ISO 3166-1 alpha-2 of the patient\'s country of affiliation) is required');
        return c;
      };

      // The hospital's doctor asks for a visiting patient's summary.
      app.post<{ Body: { country?: string; patient?: unknown; purpose?: CrossBorderPurpose; language?: string } }>('/cross-border/patient-summary', async (request, reply) => {
        const to = countryOf(request.body);
        const r = await relay(request, { to, path: '/ncp/patient-summary', body: { patient: request.body?.patient, language: request.body?.language ?? 'fr' }, service: 'patient-summary', kind: 'hospital', purpose: request.body?.purpose, patientId: patientIdOf(request.body) });
        return reply.code(r.status).type('application/fhir+json').send(r.body as Bundle);
      });
      // The pharmacy lists the patient's open prescriptions.
      app.post<{ Body: { country?: string; patient?: unknown } }>('/cross-border/eprescriptions', async (request, reply) => {
        const to = countryOf(request.body);
        const r = await relay(request, { to, path: '/ncp/eprescriptions', body: { patient: request.body?.patient }, service: 'eprescription-list', kind: 'pharmacy', patientId: patientIdOf(request.body) });
        return reply.code(r.status).type('application/fhir+json').send(r.body);
      });
      // The pharmacy reports what it dispensed against one of them.
      app.post<{ Body: { country?: string; patient?: unknown; dispense?: unknown } }>('/cross-border/edispensations', async (request, reply) => {
        const to = countryOf(request.body);
        const r = await relay(request, { to, path: '/ncp/edispensations', body: { patient: request.body?.patient, dispense: request.body?.dispense }, service: 'edispensation', kind: 'pharmacy', patientId: patientIdOf(request.body) });
        return reply.code(r.status).type('application/fhir+json').send(r.body);
      });
    },
    async stop() {
      for (const c of closers.splice(0)) await c().catch(() => {});
    },
  };
}
