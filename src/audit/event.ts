import { randomUUID } from 'node:crypto';
import type { AuditEvent, AuditEventAgent, AuditEventEntity, Coding, Extension } from '@medplum/fhirtypes';
import { isValidBsn } from '../kit/identifiers/bsn.ts';
import { CODE_SYSTEM, SYSTEM } from '../kit/identifiers/systems.ts';
import { decodePseudonymToken } from '../pseudonyms/contract.ts';
import { PERMIT_DETAIL_RESEARCH_ORGANISATION, PERMIT_IDENTIFIER_SYSTEM } from '../secondary-use/contract.ts';
import { AuditInputError } from './errors.ts';
import { AUDIT_CODE_SYSTEM, AUDIT_EXTENSION, AUDIT_SYSTEM } from './uris.ts';

// One FHIR AuditEvent per access, shaped after IHE BALP (Basic Audit Log Patterns):
// type "rest" + restful interaction subtype, agents for client/server/user, entities for the
// patient, the data and the query, purposeOfEvent for why. The patient is named only by the
// node's local reference and the transparency-log pseudonym: a BSN never enters an event.

export type AuditInteraction = 'read' | 'vread' | 'search-type' | 'search-system' | 'create' | 'update' | 'delete' | 'operation';
export type AuditOutcome = 'success' | 'minor-failure' | 'serious-failure' | 'major-failure';

export interface AuditEventInput {
  /** Stable id; generated when absent. Receivers de-duplicate on it. */
  id?: string;
  who: {
    /** Dezi / UZI professional number; absent for system-only access. */
    professionalNumber?: string;
    professionalName?: string;
    /** UZI role code, e.g. 01.045. */
    roleCode?: string;
    /** URA of the organisation on whose behalf the access happens. */
    organizationUra: string;
    /** OAuth client id (or node name) that performed the call. */
    clientId: string;
    /** URA of the other side (holder when we request, requester when we serve). */
    otherPartyUra?: string;
  };
  what: {
    /** Exchange code from the agreements, e.g. acute-zorg. */
    exchange: string;
    /** GF data-category codes involved. */
    dataCategories: string[];
    interaction: AuditInteraction;
    /** The FHIR query (path + search string) as sent; BSN-looking digits are redacted. */
    query?: string;
    /** requester = we asked for data; holder = we served it. */
    side: 'requester' | 'holder';
  };
  patient: {
    /** The node's own patient reference, e.g. Patient/123 (never a BSN). */
    localReference?: string;
    /**
     * Already-stable transparency pseudonym. Only the transparency part itself knows it; nodes
     * send transparencyPseudonymToken instead (the part refuses this field from nodes).
     */
    transparencyPseudonym?: string;
    /**
     * PRS pseudonym token addressed to the transparency part, from transparencyPseudonymToken()
     * in transparency/pseudonym-client.ts. Travels in the outbox copy only, never in the local chain.
     */
    transparencyPseudonymToken?: string;
  };
  why: {
    /** v3 ActReason, e.g. TREAT or ETREAT. */
    purposeOfUse: string;
    /** Set when the glass was broken. */
    emergencyReason?: string;
  };
  /** ISO time; now when absent. */
  when?: string;
  outcome: AuditOutcome;
  outcomeDescription?: string;
  /** W3C traceparent header value of the exchange. */
  traceparent?: string;
}

const OUTCOME_CODE: Record<AuditOutcome, AuditEvent['outcome']> = {
  success: '0',
  'minor-failure': '4',
  'serious-failure': '8',
  'major-failure': '12',
};

const TRACEPARENT = /^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$/;

export { AuditInputError };

/** True for a string that is, or contains as a standalone 9-digit run, a valid BSN. */
export function containsBsn(value: string): boolean {
  for (const m of value.matchAll(/(?<!\d)\d{9}(?!\d)/g)) if (isValidBsn(m[0])) return true;
  return false;
}

/**
 * The patient's local reference for an access event: the EHR's own reference when it cannot be
 * taken for a BSN (an EHR that numbers patients by BSN, or by 9-digit ids that pass the 11-test),
 * else a reference to the request's trace, in groups of four so that it never holds a 9-digit run.
 */
export function localPatientReference(ehrReference: string | undefined, kind: string, traceId: string): string {
  if (ehrReference && !containsBsn(ehrReference)) return ehrReference;
  return `${kind}:${(traceId.match(/.{1,4}/g) ?? [traceId]).join('-')}`;
}

/** Replaces every standalone 9-digit run that passes the 11-test by "[bsn]". */
export function redactBsns(value: string): string {
  return value.replace(/(?<!\d)\d{9}(?!\d)/g, (d) => (isValidBsn(d) ? '[bsn]' : d));
}

/** The 32-hex trace id of a traceparent, or undefined when absent/malformed. */
export function traceIdOf(traceparent: string | undefined): string | undefined {
  return traceparent ? TRACEPARENT.exec(traceparent)?.[1] : undefined;
}

export function buildAuditEvent(input: AuditEventInput): AuditEvent {
  const { who, what, patient, why } = input;
  for (const field of ['localReference', 'transparencyPseudonym'] as const) {
    const value = patient[field];
    if (value !== undefined && containsBsn(value)) {
      throw new AuditInputError(`patient.${field} looks like a BSN; use a local reference or pseudonym`);
    }
  }
  // The token is base64url (digit runs may occur by chance): check its shape instead.
  if (patient.transparencyPseudonymToken !== undefined && !decodePseudonymToken(patient.transparencyPseudonymToken)) {
    throw new AuditInputError('patient.transparencyPseudonymToken is not a PRS pseudonym token');
  }
  if (patient.transparencyPseudonym !== undefined && patient.transparencyPseudonymToken !== undefined) {
    throw new AuditInputError('give the transparency pseudonym or its token, not both');
  }
  if (!patient.localReference && !patient.transparencyPseudonym && !patient.transparencyPseudonymToken) {
    throw new AuditInputError('patient needs a local reference, a transparency pseudonym or its token');
  }
  if (input.traceparent !== undefined && !TRACEPARENT.test(input.traceparent)) {
    throw new AuditInputError('traceparent is not a W3C trace context value');
  }
  const emergency = why.emergencyReason !== undefined;

  const extension: Extension[] = [];
  if (input.traceparent) extension.push({ url: AUDIT_EXTENSION.traceparent, valueString: input.traceparent });
  if (emergency) extension.push({ url: AUDIT_EXTENSION.emergencyReason, valueString: redactBsns(why.emergencyReason!) });

  const purpose: Coding[] = [{ system: CODE_SYSTEM.purposeOfUse, code: why.purposeOfUse }];
  if (emergency) purpose.push({ system: CODE_SYSTEM.purposeOfUse, code: 'BTG', display: 'break the glass' });

  const organization = { identifier: { system: SYSTEM.ura, value: who.organizationUra } };
  const otherParty = who.otherPartyUra ? { identifier: { system: SYSTEM.ura, value: who.otherPartyUra } } : undefined;
  const client: AuditEventAgent = {
    type: { coding: [{ system: AUDIT_CODE_SYSTEM.dicom, code: '110153', display: 'Source Role ID' }] },
    who: what.side === 'requester' ? { identifier: { system: SYSTEM.oauthClientId, value: who.clientId } } : otherParty,
    requestor: false,
  };
  const server: AuditEventAgent = {
    type: { coding: [{ system: AUDIT_CODE_SYSTEM.dicom, code: '110152', display: 'Destination Role ID' }] },
    who: what.side === 'holder' ? { identifier: { system: SYSTEM.oauthClientId, value: who.clientId } } : otherParty,
    requestor: false,
  };
  const agents: AuditEventAgent[] = [client, server];
  // A citizen's app that looks on her behalf is named here too (no number, no role).
  if (who.professionalNumber || who.roleCode || who.professionalName) {
    agents.push({
      type: { coding: [{ system: AUDIT_CODE_SYSTEM.participationType, code: 'IRCP', display: 'information recipient' }] },
      role: who.roleCode ? [{ coding: [{ system: SYSTEM.uziRole, code: who.roleCode }] }] : undefined,
      who: {
        identifier: who.professionalNumber ? { system: SYSTEM.uziPerson, value: who.professionalNumber } : undefined,
        display: who.professionalName,
      },
      requestor: true,
      purposeOfUse: [{ coding: purpose }],
    });
  }
  // The organisation the professional acts for (BALP: the user's organisation as its own agent).
  agents.push({
    type: { coding: [{ system: AUDIT_CODE_SYSTEM.participationType, code: 'PRF', display: 'performer' }] },
    who: organization,
    requestor: !who.professionalNumber,
  });

  const entity: AuditEventEntity[] = [
    {
      type: { system: AUDIT_CODE_SYSTEM.entityType, code: '1', display: 'Person' },
      role: { system: AUDIT_CODE_SYSTEM.objectRole, code: '1', display: 'Patient' },
      what: {
        reference: patient.localReference,
        identifier: patient.transparencyPseudonym
          ? { system: SYSTEM.transparencyPseudonym, value: patient.transparencyPseudonym }
          : patient.transparencyPseudonymToken
            ? { system: AUDIT_SYSTEM.transparencyPseudonymToken, value: patient.transparencyPseudonymToken }
            : undefined,
      },
    },
    {
      type: { system: AUDIT_CODE_SYSTEM.entityType, code: '2', display: 'System Object' },
      role: { system: AUDIT_CODE_SYSTEM.objectRole, code: '4', display: 'Domain Resource' },
      what: { identifier: { system: CODE_SYSTEM.exchange, value: what.exchange } },
      securityLabel: what.dataCategories.map((code) => ({ system: CODE_SYSTEM.dataCategories, code })),
      detail: [{ type: 'side', valueString: what.side }],
    },
  ];
  if (what.query) {
    entity.push({
      type: { system: AUDIT_CODE_SYSTEM.entityType, code: '2', display: 'System Object' },
      role: { system: AUDIT_CODE_SYSTEM.objectRole, code: '24', display: 'Query' },
      query: Buffer.from(redactBsns(what.query), 'utf8').toString('base64'),
    });
  }
  const traceId = traceIdOf(input.traceparent);
  if (traceId) {
    entity.push({
      type: { system: AUDIT_CODE_SYSTEM.balpEntityType, code: 'XrequestId', display: 'request id' },
      what: { identifier: { value: traceId } },
    });
  }

  const id = input.id ?? randomUUID();
  return {
    resourceType: 'AuditEvent',
    id,
    extension: extension.length ? extension : undefined,
    type: { system: AUDIT_CODE_SYSTEM.eventType, code: 'rest', display: 'RESTful Operation' },
    subtype: [{ system: AUDIT_CODE_SYSTEM.restfulInteraction, code: what.interaction }],
    action: actionOf(what.interaction),
    recorded: input.when ?? new Date().toISOString(),
    outcome: OUTCOME_CODE[input.outcome],
    outcomeDesc: input.outcomeDescription ? redactBsns(input.outcomeDescription) : undefined,
    purposeOfEvent: [{ coding: purpose }],
    agent: agents,
    source: {
      observer: { identifier: { system: SYSTEM.ura, value: who.organizationUra } },
      site: who.clientId,
    },
    entity: entity.map(dropUndefined),
  };
}

function actionOf(interaction: AuditInteraction): AuditEvent['action'] {
  switch (interaction) {
    case 'create':
      return 'C';
    case 'update':
      return 'U';
    case 'delete':
      return 'D';
    case 'operation':
      return 'E';
    default:
      return 'R';
  }
}

function dropUndefined<T extends object>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

/** The event without the PRS token (for the node's own chain: the token is single-use transit data). */
export function withoutPseudonymToken(event: AuditEvent): AuditEvent {
  const patient = event.entity?.find((e) => e.role?.code === '1');
  if (patient?.what?.identifier?.system !== AUDIT_SYSTEM.transparencyPseudonymToken) return event;
  const copy = JSON.parse(JSON.stringify(event)) as AuditEvent;
  for (const e of copy.entity ?? []) {
    if (e.role?.code === '1' && e.what?.identifier?.system === AUDIT_SYSTEM.transparencyPseudonymToken) delete e.what.identifier;
  }
  return copy;
}

/** The copy of an event for the national transparency log: no local patient reference. */
export function toTransparencyEvent(event: AuditEvent): AuditEvent {
  const copy = JSON.parse(JSON.stringify(event)) as AuditEvent;
  for (const e of copy.entity ?? []) {
    if (e.role?.code === '1' && e.what) delete e.what.reference;
  }
  return copy;
}

/** Reads back the LDN fields of an event (used by the transparency part and tests). */
export function summarizeAuditEvent(event: AuditEvent) {
  const ext = (url: string) => event.extension?.find((x) => x.url === url)?.valueString;
  const user = event.agent?.find((a) => a.requestor && a.type?.coding?.[0]?.code === 'IRCP');
  const org = event.agent?.find((a) => a.type?.coding?.[0]?.code === 'PRF');
  const patient = event.entity?.find((e) => e.role?.code === '1');
  const data = event.entity?.find((e) => e.role?.code === '4');
  const side = data?.detail?.find((d) => d.type === 'side')?.valueString;
  // The other side sits in the network agent that is not this node: the client when we served,
  // the server when we asked.
  const otherAgentCode = side === 'holder' ? '110153' : side === 'requester' ? '110152' : undefined;
  const otherParty = event.agent?.find((a) => a.type?.coding?.[0]?.code === otherAgentCode && a.who?.identifier?.system === SYSTEM.ura);
  // A holder's export of the patient under a data permit (secondary-use contract).
  const permit = event.entity?.find((e) => e.what?.identifier?.system === PERMIT_IDENTIFIER_SYSTEM);
  return {
    id: event.id,
    recorded: event.recorded,
    organizationUra: org?.who?.identifier?.value,
    professionalNumber: user?.who?.identifier?.value,
    professionalName: user?.who?.display,
    roleCode: user?.role?.[0]?.coding?.[0]?.code,
    exchange: data?.what?.identifier?.value,
    dataCategories: (data?.securityLabel ?? []).map((c) => c.code!).filter(Boolean),
    side,
    otherPartyUra: otherParty?.who?.identifier?.value,
    pseudonym: patient?.what?.identifier?.system === SYSTEM.transparencyPseudonym ? patient.what.identifier.value : undefined,
    pseudonymToken: patient?.what?.identifier?.system === AUDIT_SYSTEM.transparencyPseudonymToken ? patient.what.identifier.value : undefined,
    purposeOfUse: event.purposeOfEvent?.[0]?.coding?.[0]?.code,
    emergency: ext(AUDIT_EXTENSION.emergencyReason) !== undefined,
    emergencyReason: ext(AUDIT_EXTENSION.emergencyReason),
    traceparent: ext(AUDIT_EXTENSION.traceparent),
    traceId: traceIdOf(ext(AUDIT_EXTENSION.traceparent)),
    outcome: event.outcome,
    research: permit?.what?.identifier?.value
      ? {
          permitId: permit.what.identifier.value,
          purpose: permit.description,
          organisationUra: permit.detail?.find((d) => d.type === PERMIT_DETAIL_RESEARCH_ORGANISATION)?.valueString,
        }
      : undefined,
  };
}
