// The shared contract for secondary use (issue 22) between the HDAB part (permits, portal,
// research opt-out, secure processing environment) and the holder node (Bulk Data $export,
// research pseudonyms, de-identification) and the PRS (which checks the permit before it hands
// out research pseudonyms). Types and constants, plus the one permit check every relying part
// makes (permit-verifier.ts, re-exported at the end), so no part writes its own.

/** The part name: `ldn serve hdab`; holder nodes find its base URL as ctx.network.url(HDAB_PART). */
export const HDAB_PART = 'hdab';
/**
 * Trust-register organisation type of the HDAB participant (its own URA and certificate). A holder
 * takes a caller as the HDAB only when the caller's certificate URA is an admitted participant of
 * this type AND its org-to-org token from the holder's node carries EXPORT_SCOPE.
 */
export const HDAB_ORGANIZATION_TYPE = 'HDAB';
/** Trust-register organisation type of a research organisation (a participant that may apply for permits). */
export const RESEARCH_ORGANIZATION_TYPE = 'RSCH';
/**
 * Node-audience scope of the Bulk Data export, granted only to HDAB_ORGANIZATION_TYPE, no user
 * (added to the default agreements' central scopes by bulk-export).
 */
export const EXPORT_SCOPE = 'secondary-use:export';

// ---------------------------------------------------------------- permit (compact JWS)

/** JOSE header `typ` of a data permit. */
export const PERMIT_TYP = 'ldn-data-permit+jwt';
/** The only signing algorithm a permit may use. */
export const PERMIT_ALG = 'ES256';
/** Where the HDAB publishes the permit-signing public keys, relative to its base URL. */
export const HDAB_JWKS_PATH = '/.well-known/jwks.json';

export interface PermitHeader {
  alg: typeof PERMIT_ALG;
  typ: typeof PERMIT_TYP;
  kid: string;
}

export type DatePrecision = 'year' | 'month';
export const DATE_PRECISIONS: readonly DatePrecision[] = ['year', 'month'];

/** The smallest cell count released from a workspace when the permit does not say otherwise. */
export const DEFAULT_MIN_CELL = 10;

/** Who is in the extract. Every criterion given must hold; an absent one does not restrict. */
export interface PermitCohort {
  /** SNOMED CT codes; the patient has a Condition with one of them. */
  conditions?: string[];
  /** ATC code prefixes; the patient has a MedicationStatement/Request whose ATC code starts with one. */
  medications?: string[];
  /** Age in whole years at the extraction's transaction time, inclusive bounds. */
  ageMin?: number;
  ageMax?: number;
}

export interface PermitClaims {
  /** The HDAB base URL (= ctx.network.url('hdab') at the holder). */
  iss: string;
  /** The permit id; also the research pseudonym domain. */
  jti: string;
  /** URA of the research organisation the permit is granted to. */
  sub: string;
  iat: number;
  nbf: number;
  exp: number;
  purpose: string;
  legal_basis: string;
  /** GF data-category codes (CODE_SYSTEM.dataCategories, the agreements' code system). */
  categories: string[];
  cohort: PermitCohort;
  /** FHIR resource types requested, e.g. ['Patient','Condition','MedicationStatement']. */
  types: string[];
  date_precision: DatePrecision;
  /** Smallest releasable cell; DEFAULT_MIN_CELL when absent. */
  min_cell?: number;
}

// ---------------------------------------------------------------- Bulk Data $export (holder)

/** Kick-off: POST {tenant FHIR base}/$export with this Prefer header and a Parameters body. */
export const EXPORT_OPERATION_PATH = '/$export';
export const PREFER_RESPOND_ASYNC = 'respond-async';
/** Parameters.parameter names of the kick-off body (valueString each). */
export const EXPORT_PARAM_PERMIT = 'permit';
export const EXPORT_PARAM_TYPE = '_type';
/** Status responses while running carry this header (free text, e.g. "120/3000 patients"). */
export const PROGRESS_HEADER = 'X-Progress';
/** Content type of every output file. */
export const NDJSON_CONTENT_TYPE = 'application/fhir+ndjson';

export interface ExportKickOffBody {
  resourceType: 'Parameters';
  parameter: Array<{ name: typeof EXPORT_PARAM_PERMIT | typeof EXPORT_PARAM_TYPE; valueString: string }>;
}

export interface BulkOutputFile {
  type: string;
  /** Absolute URL, fetched with the same credentials (mTLS + org-to-org token) as the kick-off. */
  url: string;
  count: number;
}

/** The status URL's 200 body when the export is complete. */
export interface BulkManifest {
  transactionTime: string;
  /** The kick-off request URL. */
  request: string;
  requiresAccessToken: true;
  output: BulkOutputFile[];
  error: BulkOutputFile[];
}

// ---------------------------------------------------------------- research opt-out (consent)

/** Consent.scope of a research opt-out record. */
export const RESEARCH_SCOPE = { system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'research' } as const;
/** provision.purpose of a research opt-out record, and the closed question's purposeOfUse. */
export const RESEARCH_PURPOSE = { system: 'http://terminology.hl7.org/CodeSystem/v3-ActReason', code: 'HRESCH' } as const;
export const PURPOSE_RESEARCH = 'HRESCH';

/**
 * The holder's closed question before writing one patient's data: POST {consent}/$closed-question
 * with { bsn, holderUra: tenant URA, holderType: tenant type, requesterUra: HDAB URA (the caller),
 * requesterType: RESEARCH_REQUESTER_TYPE, requesterRole: RESEARCH_REQUESTER_ROLE,
 * requesterId: the permit jti, purposeOfUse: PURPOSE_RESEARCH, eventCode: RESEARCH_EVENT_CODE }.
 * The consent part accepts this event code for purposeOfUse HRESCH only; for HRESCH only research
 * records count and the default is Permit (EHDS opt-out). Anything but 'Permit' leaves the patient out.
 */
export const RESEARCH_EVENT_CODE = 'secondary-use-extraction';
export const RESEARCH_REQUESTER_TYPE = HDAB_ORGANIZATION_TYPE;
export const RESEARCH_REQUESTER_ROLE = 'hdab';

// ---------------------------------------------------------------- HDAB API (portal, research organisations)

export type PermitStatus = 'applied' | 'granted' | 'refused' | 'expired';
export type WorkspaceState = 'none' | 'extracting' | 'ready' | 'failed' | 'destroyed';

/** One holder's part in an extraction, as GET /permits/<id> reports it. */
export interface HolderOutcomeView {
  ura: string;
  name: string;
  status: 'delivered' | 'refused' | 'failed';
  reason?: string;
  resources?: number;
}

/** A permit application on the wire (dates as ISO strings). */
export interface ApplicationView {
  purpose: string;
  legalBasis: string;
  categories: string[];
  cohort: PermitCohort;
  types: string[];
  datePrecision: DatePrecision;
  minCell: number;
  periodStart: string;
  periodEnd: string;
}

/** GET /permits and /permits/<id>: what the applicant and the operator see (never workspace contents). */
export interface PermitView {
  id: string;
  applicant: string;
  status: PermitStatus;
  application: ApplicationView;
  appliedAt: string;
  decidedAt?: string;
  decisionReason?: string;
  /** The signed permit (compact JWS), once granted. */
  permit?: string;
  workspace: WorkspaceState;
  extraction?: { at: string; holders: HolderOutcomeView[]; resources: number; refusedFiles?: unknown; error?: string };
}

/**
 * A researcher's call through the researcher portal: the portal's own certificate, and her
 * verklaring from the professional identity provider in this header (secondary-use/researcher.ts).
 */
export const RESEARCHER_VERKLARING_HEADER = 'x-ldn-researcher-verklaring';

/** POST /permits/<id>/query answer: released cells only, and how many were suppressed. */
export interface QueryReleaseView {
  columns?: string[];
  released: Array<{ dims: Record<string, string | number | boolean | null>; n: number }>;
  suppressed: number;
  minCell: number;
}

// ---------------------------------------------------------------- research pseudonyms (PRS)

/**
 * POST {prs}/oprf/research-eval body: the blinded element and the permit it is asked under. The
 * PRS verifies the permit (HDAB signature, not expired) and that the caller is a holder, and
 * evaluates in the permit's domain (its jti) only.
 */
export interface ResearchEvalBody {
  encryptedPersonalId: string;
  /** The data permit, compact JWS as the HDAB signed it. */
  permit: string;
}

// ---------------------------------------------------------------- citizen transparency

/**
 * A holder that exported a patient under a permit logs it for the citizen (node audit → the
 * transparency log, keyed by the transparency pseudonym, never the BSN): an AuditEvent with the
 * exchange code below, purposeOfUse HRESCH, and one entity naming the permit:
 * what.identifier {system: PERMIT_IDENTIFIER_SYSTEM, value: jti}, description: the permit's
 * purpose, detail [{type: 'research-organisation', valueString: the permit's sub (URA)}].
 * No research result, no pseudonym of the research domain.
 */
export const RESEARCH_USE_EXCHANGE = 'secondary-use';
export const PERMIT_IDENTIFIER_SYSTEM = 'https://ldn.example.nl/fhir/NamingSystem/data-permit';
export const PERMIT_DETAIL_RESEARCH_ORGANISATION = 'research-organisation';

export { HDAB_ERRORS, HdabError, type HdabErrorCode } from './errors.ts';
export { EXPORTABLE_TYPES, hdabKeys, PermitRefused, type PermitVerifierOptions, parsePermitClaims, permitVerifier } from './permit-verifier.ts';
