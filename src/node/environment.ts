import type { AuditEvent } from '@medplum/fhirtypes';
import type { Peer, TlsIdentity } from '../kit/part.ts';
import type { ArchiveConnection } from './imaging/archive-client.ts';
import type { TraceContext } from '../kit/trace.ts';
import type { ClosedAnswer, ClosedQuestion, ConsentOracle } from '../consent/contract.ts';
import type { AgreementsDocument, UserContext } from '../trust/contract.ts';

// What a node needs from the rest of the network, as ports. In the sandbox and in production
// they are HTTP clients of the central parts (node/network-environment.ts); tests may plug in
// in-process versions. The node's own logic never knows which.

/** One organisation a node serves (a vendor's node serves several). */
export interface NodeTenant {
  ura: string;
  name: string;
  /** Vektis organisation-type code. */
  type: string;
  /** The organisation's own network certificate: used for every outbound call on its behalf. */
  identity: TlsIdentity;
  /** FHIR R4 base URL of the organisation's EHR (the simulator in the sandbox). */
  ehrBaseUrl: string;
  /** The organisation's image archive (DICOMweb), when it publishes images (node/imaging/). */
  archive?: ArchiveConnection;
}

export interface ParticipantView {
  ura: string;
  name: string;
  type: string;
  status: string;
  qualifications: Array<{ code: string; validFrom?: string; validUntil?: string }>;
}

export interface HolderLocation {
  ura: string;
  categories: string[];
}

export interface HolderEndpoint {
  ura: string;
  name: string;
  /** FHIR base URL of the holder's open interface for this exchange. */
  address: string;
}

/** Receives the consent part's change notifications for the node's tenants (rest-hook). */
export interface ConsentNotificationReceiver {
  /** True only for the consent part's own certificate. */
  isConsentPart(peer: Peer | undefined): Promise<boolean>;
  /** Clears the notified patient's cached answers; 'unknown' when the subscription is not the tenant's (any more). Throws on a malformed body. */
  receive(tenantUra: string, body: unknown): 'applied' | 'unknown';
  /** Switches off, at the consent part, a subscription the tenant no longer tracks. */
  forget(tenantUra: string, subscriptionId: string): void;
}

/** Secondary use (issue 22, node/bulk-export/): what a holder needs to answer the HDAB's $export. */
export interface SecondaryUsePorts {
  /** The HDAB's base URL: the permits' expected issuer. */
  hdabUrl(): string;
  /** The HDAB's permit-signing public keys (its JWKS). */
  hdabJwks(): Promise<import('jose').JSONWebKeySet>;
  /** The research opt-out, asked fresh (never cached): the consent part's answer to an HRESCH closed question. */
  researchConsent(tenant: NodeTenant, question: ClosedQuestion): Promise<ClosedAnswer>;
  /** The research pseudonym of `bsn` in a permit's domain (its jti), from the PRS on the tenant's behalf; the PRS checks the permit. */
  researchPseudonym(tenant: NodeTenant, bsn: string, permit: { jws: string; jti: string }): Promise<string>;
}

export interface NodeEnvironment {
  agreements(): AgreementsDocument;
  participant(ura: string): Promise<ParticipantView | null>;
  /** Localisation (PRS + NVI) on behalf of `tenant`: who holds data about the patient within the exchange's categories. */
  localise(tenant: NodeTenant, bsn: string, exchange: string, trace?: TraceContext): Promise<HolderLocation[]>;
  /** Register / withdraw a referral at the NVI for data the tenant holds. */
  registerReferral(tenant: NodeTenant, bsn: string, categories: string[]): Promise<void>;
  withdrawReferral(tenant: NodeTenant, bsn: string, categories: string[]): Promise<void>;
  /** Addressing from the node's directory replica. */
  endpoint(ura: string, exchange: string): Promise<HolderEndpoint | null>;
  consent: ConsentOracle;
  /** Consent change notifications (absent: the node offers no notification route; the cache TTL alone bounds staleness). */
  consentNotifications?: ConsentNotificationReceiver;
  /** Verifies a Dezi verklaring for the node's authorisation server (jwt-bearer grant). */
  verifyVerklaring(assertion: string, expectedUra: string): Promise<UserContext>;
  /**
   * Appends to the node's hash-chained audit log (and its outbox to the transparency part). With
   * `patient`, the outbox keeps the BSN sealed and names the patient to the transparency part with
   * a PRS token fetched at delivery, so an access made while the PRS or that part is down still
   * reaches the citizen's log. The hash-chained log itself never holds the BSN.
   */
  audit(event: AuditEvent, patient?: { bsn: string }): Promise<void>;
  /** Absent: the network has no HDAB, and the node answers no $export. */
  secondaryUse?: SecondaryUsePorts;
}
