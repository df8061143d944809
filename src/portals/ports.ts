import type { Bundle } from '@medplum/fhirtypes';
import type { JWK } from 'jose';
import type { CitizenAccessEntry, InclusionProof, SignedTreeHead } from '../audit/contract.ts';
import type { PermitView, QueryReleaseView } from '../secondary-use/contract.ts';
import type { ParsedConsent } from '../consent/contract.ts';
import type { TraceContext } from '../kit/trace.ts';
import type { AgreementsDocument, ConsentMode, Participant, ParticipantStatus } from '../trust/contract.ts';

// Everything the portals need from the rest of the network, as ports. The portals never reach
// into another part's store: adapters (adapters/*.ts) call the parts' HTTP APIs, and the lead
// wires the ones whose API does not exist yet.

// ---- clinician viewer (served by a participant node) ----

/** The logged-in professional, from the Dezi-like provider's id_token / verklaring. */
export interface ClinicianIdentity {
  /** OIDC subject. */
  subject: string;
  name: string;
  deziNumber?: string;
  roleCode?: string;
  roleName?: string;
  /** URA of the organisation she works for (abonnee_nummer). */
  ura?: string;
  organizationName?: string;
  /** The signed verklaring JWT, carried into every network request (jwt-bearer grant). */
  verklaring?: string;
  idToken?: string;
}

export interface OverviewInput {
  bsn: string;
  exchange: string;
  session: ClinicianIdentity;
  /** Present only when the clinician broke the glass; never empty. */
  emergencyReason?: string;
  trace?: TraceContext;
}

/** The node's data-integration function: one merged Bundle (see src/node/integration/merge.ts), with the holders asked when known. */
export type OverviewPort = (input: OverviewInput) => Promise<Bundle | OverviewAnswer>;

export interface OverviewAnswer {
  bundle: Bundle;
  /** Holders asked and their status (ok, refused, failed, timeout); never one that withheld all on the patient's choice. */
  holders: Array<{ name: string; status: string }>;
}

/** A patient from abroad as the clinician identifies him: the other country's national identifier and demographics. */
export interface ForeignPatientSearch {
  /** ISO 3166-1 alpha-2 code of the patient's country of affiliation. */
  country: string;
  id: string;
  family: string;
  given: string;
  /** YYYY-MM-DD */
  birthDate: string;
}

/** NCPeH-NL's answer through the node: the transcoded summary, or why there is none (status and its words). */
export type ForeignSummaryAnswer = { ok: true; bundle: Bundle } | { ok: false; status: number; message: string };

/** The outgoing cross-border service (NCPeH-NL) as the viewer's node reaches it. */
export interface ForeignSummaryPort {
  /** The countries on the trust list the patient may come from. */
  countries(session: ClinicianIdentity): Promise<Array<{ country: string; name: string }>>;
  summary(input: { session: ClinicianIdentity; patient: ForeignPatientSearch; trace?: TraceContext }): Promise<ForeignSummaryAnswer>;
}

/** An exchange the viewer offers (from the agreements document). */
export interface ExchangeOption {
  code: string;
  name: { nl: string; en: string };
  emergencyAccess: boolean;
}

// ---- citizen portal ----

export interface CitizenIdentity {
  /** BSN (the citizen provider's subject claim). */
  bsn: string;
  name?: string;
  /** Level of assurance (acr). */
  loa?: string;
  idToken?: string;
  accessToken?: string;
}

/** All of a citizen's data from all providers, as the network assembles it on her behalf. */
export type CitizenDataPort = (citizen: CitizenIdentity, options?: CitizenDataOptions) => Promise<Bundle>;

export interface CitizenDataOptions {
  /** Ask only for these data categories (an app's grant); absent = all of citizen-access. */
  categories?: string[];
  trace?: TraceContext;
}

/** One current consent choice as the consent part holds it. */
export interface ConsentChoice extends ParsedConsent {
  id: string;
  version: number;
  recordedAt?: string;
}

export interface ConsentPort {
  /** The network's consent mode, to explain what no choice means. */
  mode(): Promise<ConsentMode>;
  list(citizen: CitizenIdentity): Promise<ConsentChoice[]>;
  /** Records a new choice (status active). */
  create(citizen: CitizenIdentity, choice: ParsedConsent): Promise<ConsentChoice>;
  /** Writes a new version of an existing choice (conditional on the version shown). */
  update(citizen: CitizenIdentity, id: string, ifVersion: number, choice: ParsedConsent): Promise<ConsentChoice>;
}

/** One access as the citizen sees it: the transparency part's citizen view, as the portal reads it back from the log's AuditEvents. */
export interface AccessEntry
  extends Pick<
    CitizenAccessEntry,
    'eventId' | 'when' | 'organizationUra' | 'organizationName' | 'roleCode' | 'roleName' | 'professionalName' | 'exchange' | 'dataCategories' | 'emergency' | 'emergencyReason' | 'refused'
  > {
  /** Position in the transparency log, as the log states it (checked against the proof). */
  leafIndex?: number;
  /** The log's link to this event's inclusion proof (entry.link[relation=inclusion-proof]). */
  proofUrl?: string;
}

export interface AccessLogPort {
  accesses(citizen: CitizenIdentity): Promise<AccessEntry[]>;
  /** Latest signed tree head (public). */
  treeHead(): Promise<SignedTreeHead>;
  /** Inclusion proof of a listed access under a tree of the given size (public). */
  inclusionProof(entry: AccessEntry, treeSize: number): Promise<InclusionProof>;
  /** The log's public signing key(s) (public JWKS). */
  signingKeys(): Promise<JWK[]>;
}

/** Organisations a citizen can name in a consent choice. */
export interface ProviderOption {
  ura: string;
  name: string;
  type: string;
}

// ---- operator dashboard ----

export interface CertificateInfo {
  serial: string;
  subject: string;
  ura?: string;
  kvk?: string;
  notAfter: string;
  status: 'valid' | 'revoked' | 'expired';
}

export interface TrustOperatorPort {
  participants(): Promise<Participant[]>;
  setStatus(ura: string, status: ParticipantStatus, reason: string): Promise<Participant>;
  qualify(ura: string, qualification: string, validUntil?: string): Promise<Participant>;
  withdrawQualification(ura: string, qualification: string): Promise<Participant>;
  certificates(): Promise<CertificateInfo[]>;
  revokeCertificate(serial: string, reason: string): Promise<void>;
  agreements(): Promise<AgreementsDocument>;
}

export interface PartHealth {
  name: string;
  kind: 'part' | 'node';
  url: string;
  up: boolean;
  latencyMs?: number;
  detail?: string;
}

export interface ExchangeStat {
  exchange: string;
  requests: number;
  failures: number;
}

export interface NetworkMonitorPort {
  health(): Promise<PartHealth[]>;
  /** Exchange volumes and failures over a recent window (summed over the nodes' /metrics). */
  exchangeStats(): Promise<ExchangeStat[]>;
}

// ---- the HDAB (secondary use): the operator's review, the researcher's work ----

/** The HDAB's permit API as the operator pages use it, called with the operator's certificate. */
export interface HdabOperatorPort {
  permits(): Promise<PermitView[]>;
  permit(id: string): Promise<PermitView>;
  decide(id: string, decision: 'grant' | 'refuse', reason: string): Promise<PermitView>;
  startExtraction(id: string): Promise<PermitView>;
}

/** The researcher as the portal knows her after the professional identity provider's login. */
export interface ResearcherIdentity {
  name: string;
  deziNumber?: string;
  /** URA of her research organisation (the verklaring's abonnee_nummer). */
  ura?: string;
  organizationName?: string;
  /** The verklaring: the portal forwards it to the HDAB, which verifies it (never the portal). */
  verklaring: string;
}

/** The HDAB's permit API on a researcher's behalf: the portal's certificate plus her verklaring. */
export interface HdabResearcherPort {
  permits(who: ResearcherIdentity): Promise<PermitView[]>;
  permit(who: ResearcherIdentity, id: string): Promise<PermitView>;
  apply(who: ResearcherIdentity, application: Record<string, unknown>): Promise<PermitView>;
  query(who: ResearcherIdentity, id: string, sql: string): Promise<QueryReleaseView>;
}
