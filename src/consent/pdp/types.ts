import type { LegalBasis } from '../../trust/contract.ts';
import type { ClosedAnswer } from '../model.ts';

// The PDP's input mirrors the Knooppunt's authz input (subject / request / context, snake_case):
// `subject` may be the token introspection result, extended with the requester's qualifications.

export interface Qualification {
  /** Exchange code (or generic function) the participant is qualified for. */
  code: string;
  validFrom?: string;
  validUntil?: string;
}

export interface PdpSubject {
  /** Space-separated scopes of the access token. */
  scope: string;
  client_id?: string;
  organization_ura: string;
  organization_name?: string;
  /** Organisation type (Vektis code) of the requester. */
  organization_facility_type: string;
  /** Professional number (UZI / Dezi). */
  user_id: string;
  /** UZI role code. */
  user_role: string;
  /** Qualifications of the requesting participant from the trust register (strings = no validity limit). */
  client_qualifications?: Array<string | Qualification>;
}

export interface PdpRequest {
  method: string;
  protocol?: string;
  /** Path as received, e.g. /fhir/AllergyIntolerance or /AllergyIntolerance/_search. */
  path: string;
  query_params: Record<string, string | string[] | undefined>;
}

export interface PdpContext {
  data_holder_organization_id: string;
  data_holder_facility_type: string;
  patient_bsn: string;
  purpose_of_use: string;
  /** Exchange code from the agreements document. */
  exchange: string;
  /** Set by the holder when it has a treatment relationship on record (e.g. eOverdracht notified pull). */
  treatment_relationship?: boolean;
  /** Break the glass: only where the exchange allows it, with a mandatory reason. */
  emergency?: { reason: string };
}

export interface PdpInput {
  subject: PdpSubject;
  request: PdpRequest;
  context: PdpContext;
}

export interface PdpReason {
  code: 'not_allowed' | 'pip_error' | 'info';
  description: string;
}

export interface PdpDecision {
  allow: boolean;
  reasons: PdpReason[];
  /** True when access rests on break-the-glass: the access must be flagged for review. */
  emergency?: boolean;
  review?: boolean;
  /** The legal basis that allowed it. */
  basis?: LegalBasis;
  /** GF data categories the request touches (for audit and NVI filtering). */
  dataCategories?: string[];
  /** The registry's answers that were used. */
  consent?: ClosedAnswer[];
}
