import { checkServerIdentity, type PeerCertificate } from 'node:tls';
import type { Bundle, OperationOutcome } from '@medplum/fhirtypes';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Agent, request as undiciRequest } from 'undici';
import { badRequest, forbidden, HttpError } from '../kit/fhir/outcome.ts';
import { thumbprintOf } from '../kit/http/peer.ts';
import { readBounded } from '../kit/http/bounded-body.ts';
import { formatTraceparent } from '../kit/trace.ts';
import type { UserContext } from '../trust/contract.ts';
import { signHcpAssertion } from './assertion.ts';
import { CROSS_BORDER_SYSTEM, type crossBorderAuditLog } from './audit.ts';
import { transcodeIncoming } from './terms/inbound.ts';
import { memberOf, type TrustListContent, type TrustListEntry } from './trust-list.ts';

// NCPeH-NL as the country of treatment (NCP-B): a Dutch clinician, logged in at her own
// organisation's node with her verklaring, asks for the summary of a patient from another member
// state. Her node calls here with the organisation's certificate and her verklaring; the NCPeH
// checks the verklaring for that organisation, admits only the roles the agreements let ask a
// patient summary and that have a European occupation (ISCO-08) to vouch for, signs its own
// assertion of her, finds the other country's gateway only through the signed trust list (its CA
// and its certificate's thumbprint), fetches, and transcodes the foreign codes to the Dutch terms
// the viewer shows, the original coding kept beside them. Every request is audited, whatever its
// outcome; failures abroad are said as such, never as "no data".

export const OUTGOING_SUMMARY_PATH = '/cross-border/outgoing/patient-summary';
export const OUTGOING_COUNTRIES_PATH = '/cross-border/outgoing/countries';
export const ORIGIN_TAG_SYSTEM = `${CROSS_BORDER_SYSTEM}/origin`;

/** The Dutch professional roles (UZI) NCPeH-NL vouches for abroad, as the ISCO-08 occupation the other side knows. */
export const OUTGOING_OCCUPATIONS: Readonly<Record<string, { isco: string; label: string }>> = {
  '01.015': { isco: '2211', label: 'Huisarts: generalist medical practitioner' },
  '01.016': { isco: '2212', label: 'Arts (specialist): specialist medical practitioner' },
  '01.018': { isco: '2212', label: 'Specialist ouderengeneeskunde: specialist medical practitioner' },
  '01.019': { isco: '2212', label: 'Arts voor verstandelijk gehandicapten: specialist medical practitioner' },
  '01.024': { isco: '2212', label: 'Arts (jeugdgezondheidszorg): specialist medical practitioner' },
  '01.030': { isco: '2212', label: 'Specialist: specialist medical practitioner' },
  '01.045': { isco: '2212', label: 'Medisch specialist: specialist medical practitioner' },
  '01.050': { isco: '2212', label: 'Specialist (overig): specialist medical practitioner' },
};

export interface ForeignPatientQuery {
  id: string;
  family: string;
  given: string;
  birthDate: string;
}

export interface OutgoingDeps {
  own: string;
  list: TrustListContent;
  /** This NCPeH's assertion key (the one the trust list gives for it). */
  signingKey: CryptoKey | Uint8Array;
  /** The gateway certificate NCPeH-NL presents to the other contact points. */
  gatewayTls: { cert: string; key: string };
  audit: ReturnType<typeof crossBorderAuditLog>;
  verifyVerklaring(jwt: string, organisationUra: string): Promise<UserContext>;
  /** The UZI roles the agreements let ask a patient summary (the ips exchange's requester roles). */
  admittedRoles(): Promise<string[]>;
  deadlineMs: number;
}

export function parseForeignPatient(input: unknown): ForeignPatientQuery {
  const d = (input ?? {}) as Record<string, unknown>;
  const str = (k: string, max: number) => {
    const v = d[k];
    if (typeof v !== 'string' || v.trim().length === 0 || v.length > max) throw badRequest(`patient.${k} is required (text up to ${max} characters)`);
    return v.trim();
  };
  const id = str('id', 32);
  if (!/^[A-Za-z0-9 .\-/]+$/.test(id)) throw badRequest('patient.id must be the national identifier as printed (letters, digits, spaces, dots, dashes)');
  const birthDate = str('birthDate', 10);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(birthDate) || Number.isNaN(Date.parse(birthDate))) throw badRequest('patient.birthDate must be YYYY-MM-DD');
  return { id, family: str('family', 200), given: str('given', 200), birthDate };
}

/** A foreign document larger than this is not read (a summary is kilobytes). */
const MAX_FOREIGN_BYTES = 5 * 1024 * 1024;

/** The body as JSON, read up to `max` bytes (beyond it: an error, the connection dropped); undefined when not JSON. */
async function boundedJson(body: AsyncIterable<Uint8Array> & { destroy(err?: Error): unknown }, max: number): Promise<unknown> {
  const bytes = await readBounded(body, max);
  if (!bytes) throw new Error(`the answer is larger than ${max} bytes`);
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch {
    return undefined;
  }
}

const outcomeText = (body: unknown) =>
  ((body as OperationOutcome | undefined)?.issue ?? [])
    .map((i) => i.diagnostics)
    .filter(Boolean)
    .join('; ')
    .slice(0, 300);

export function registerOutgoingSummary(app: FastifyInstance, d: OutgoingDeps): { close(): Promise<void> } {
  const agents = new Map<string, Agent>();
  /** One client per country: trusts only the CA the list gives and only the listed gateway certificate. */
  const agentFor = (member: TrustListEntry) => {
    let agent = agents.get(member.country);
    if (!agent) {
      agent = new Agent({
        connect: {
          cert: d.gatewayTls.cert,
          key: d.gatewayTls.key,
          ca: member.caCert,
          checkServerIdentity: (host: string, cert: PeerCertificate) =>
            checkServerIdentity(host, cert) ?? (thumbprintOf(cert.raw) === member.gatewayThumbprint ? undefined : new Error(`the gateway of ${member.country} is not the one on the trust list`)),
        },
      });
      agents.set(member.country, agent);
    }
    return agent;
  };

  app.get(OUTGOING_COUNTRIES_PATH, async () => ({
    countries: d.list.entries.filter((e) => e.country !== d.own).map((e) => ({ country: e.country, name: e.name })),
  }));

  app.post<{ Body: { country?: unknown; patient?: unknown } }>(OUTGOING_SUMMARY_PATH, async (request: FastifyRequest<{ Body: { country?: unknown; patient?: unknown } }>, reply) => {
    const peer = request.peer;
    if (!peer?.ura) throw forbidden('only a care organisation of the network (its certificate) may ask for a foreign summary');
    const header = request.headers['dezi-verklaring'];
    if (typeof header !== 'string' || !header) throw new HttpError(401, 'login', 'the Dezi-Verklaring header (the clinician\'s verklaring) is required');
    const traceId = request.trace.traceId;
    const user = await d.verifyVerklaring(header, peer.ura).catch(async (e: Error) => {
      await d.audit.record({ service: 'outgoing-patient-summary', country: 'unknown', side: 'country-of-treatment', outcome: 'refused', reason: `verklaring refused for ${peer.ura}: ${e.message}`, traceId });
      throw forbidden(`verklaring refused: ${e.message}`);
    });
    const country = typeof request.body?.country === 'string' ? request.body.country.trim().toUpperCase() : '';
    const occupation = OUTGOING_OCCUPATIONS[user.roleCode];
    const professional = { id: user.deziNumber, name: user.name, role: occupation?.isco ?? `uzi:${user.roleCode}`, organization: peer.commonName };
    const record = (outcome: 'answered' | 'refused' | 'failed', reason?: string, patientId?: string) =>
      d.audit.record({ service: 'outgoing-patient-summary', country: country || 'unknown', side: 'country-of-treatment', professional, patientId, outcome, reason, traceId });

    // Deny on error: agreements that cannot be read admit nobody.
    const admitted = await d.admittedRoles().catch(() => {
      throw new HttpError(503, 'transient', 'the agreements could not be read; try again', { headers: { 'retry-after': '10' } });
    });
    if (!admitted.includes(user.roleCode) || !occupation) {
      await record('refused', `role ${user.roleCode} is not admitted to cross-border patient summaries`);
      throw forbidden(`your role (${user.roleCode}) is not one the agreements admit to ask a patient summary abroad`);
    }
    if (!/^[A-Z]{2}$/.test(country)) throw badRequest('country (ISO 3166-1 alpha-2 of the patient\'s country of affiliation) is required');
    const member = memberOf(d.list, country);
    if (!member || country === d.own) {
      await record('refused', `no contact point for ${country} on the trust list`);
      throw new HttpError(404, 'not-found', `no national contact point for country ${country} is on the trust list`);
    }
    const patient = parseForeignPatient(request.body?.patient);
    const assertion = await signHcpAssertion(
      { country: d.own, professionalId: user.deziNumber, professionalName: user.name, role: occupation.isco, organizationId: peer.ura, organizationName: peer.commonName, purpose: 'TREATMENT' },
      member.country,
      d.signingKey,
    );
    let status: number;
    let body: unknown;
    try {
      const r = await undiciRequest(`${member.gatewayUrl}/ncp/patient-summary`, {
        method: 'POST',
        dispatcher: agentFor(member),
        headers: { 'content-type': 'application/json', 'ncp-hcp-assertion': assertion, traceparent: formatTraceparent(request.trace) },
        body: JSON.stringify({ patient, language: 'nl' }),
        headersTimeout: d.deadlineMs,
        bodyTimeout: d.deadlineMs,
      });
      status = r.statusCode;
      body = await boundedJson(r.body, MAX_FOREIGN_BYTES);
    } catch (err) {
      const tooLarge = (err as Error).message.includes('larger than');
      await record('failed', `${tooLarge ? 'answer refused' : 'unreachable'}: ${(err as Error).message}`, patient.id);
      if (tooLarge) throw new HttpError(502, 'too-costly', `the contact point of ${member.name} sent an answer too large to read`);
      throw new HttpError(504, 'timeout', `the national contact point of ${member.name} (${country}) could not be reached; try again later`);
    }
    if (status === 200 && (body as Bundle | undefined)?.resourceType === 'Bundle') {
      const received = new Date().toISOString();
      const document = transcodeIncoming(body as Bundle);
      document.meta = {
        ...(document.meta ?? {}),
        source: member.gatewayUrl,
        lastUpdated: received,
        tag: [...(document.meta?.tag ?? []), { system: ORIGIN_TAG_SYSTEM, code: country, display: member.name }],
      };
      await record('answered', undefined, patient.id);
      return reply.type('application/fhir+json').send(document);
    }
    const said = outcomeText(body);
    if (status === 404) {
      await record('refused', `${country} found no match${said ? `: ${said}` : ''}`, patient.id);
      throw new HttpError(404, 'not-found', `the contact point of ${member.name} found no patient matching this identifier and these demographics`);
    }
    if (status === 403 || status === 400) {
      await record('refused', `${country} refused (${status})${said ? `: ${said}` : ''}`, patient.id);
      throw new HttpError(status, status === 403 ? 'forbidden' : 'invalid', `the contact point of ${member.name} refused the request${said ? `: ${said}` : ''}`);
    }
    await record('failed', `${country} answered ${status}${said ? `: ${said}` : ''}`, patient.id);
    throw new HttpError(502, 'exception', `the contact point of ${member.name} could not answer (status ${status}); try again later`);
  });

  return {
    async close() {
      for (const a of agents.values()) await a.close().catch(() => {});
    },
  };
}
