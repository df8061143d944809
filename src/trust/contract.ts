// What other parts may use of the trust part, and nothing else: the agreements (exchanges,
// scopes, policies as data) and how to find an exchange in them, and the participant register's
// wire shape (GET /participants). Everything else under src/trust is its implementation.

export { exchangeByCode, exchangeOfScopes } from './agreements/exchanges.ts';
export type {
  AgreementsDocument,
  AllowedQuery,
  ConsentMode,
  ExchangeCode,
  ExchangeDefinition,
  LegalBasis,
  NotifiedPullDefinition,
  ScopeDefinition,
} from './agreements/types.ts';

export type ParticipantStatus = 'applied' | 'admitted' | 'suspended' | 'revoked';

export interface Address {
  line?: string[];
  postalCode?: string;
  city?: string;
  country?: string;
}

export interface ParticipantInput {
  ura: string;
  name: string;
  organizationType: string;
  agb?: string;
  address?: Address;
}

export interface Qualification {
  id: number;
  qualification: string;
  validFrom: string;
  validUntil: string | null;
}

export interface Participant extends ParticipantInput {
  status: ParticipantStatus;
  statusChangedAt: string;
  qualifications: Qualification[];
  /** KvK numbers of the vendors that host this organisation. */
  hostedBy: string[];
}

export interface Vendor {
  kvk: string;
  name: string;
  status: ParticipantStatus;
  statusChangedAt: string;
  hosts: string[];
}

export interface StatusChange {
  status: ParticipantStatus;
  reason: string;
  actor: string;
  at: string;
}

// Every status once, checked complete by the compiler.
const EVERY_STATUS: Record<ParticipantStatus, true> = { applied: true, admitted: true, suspended: true, revoked: true };
/** Every status a participant or vendor can have (register order). */
export const PARTICIPANT_STATUSES = Object.keys(EVERY_STATUS) as ParticipantStatus[];

// Its error codes, for other parts and tests to test for.
export { TRUST_ERRORS, TrustError, type TrustErrorCode } from './errors.ts';
