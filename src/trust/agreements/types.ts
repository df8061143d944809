// The agreements document (afsprakenstelsel as data). The trust framework signs it (JWS) and
// serves it at GET [trust]/agreements; every part verifies it and the policy decision point
// enforces it. Nothing here is code-as-policy: change the data, and the network changes.

export type ConsentMode = 'opt-in' | 'opt-out';
export type LegalBasis = 'explicit-consent' | 'opt-out' | 'emergency-access' | 'treatment-relationship' | 'patient-right-of-access';

export type ExchangeCode =
  | 'acute-zorg'
  | 'bgz'
  | 'medicatieoverdracht'
  | 'eoverdracht'
  | 'beeldbeschikbaarheid'
  | 'ips'
  /** The citizen's own access to her data (through the operator's portal). */
  | 'citizen-access';

/** A scope a central part or a node accepts in an access token. */
export interface ScopeDefinition {
  scope: string;
  /** Which part (manifest service name) or "node" accepts tokens with this scope. */
  audience: string;
  description: string;
  /** Qualification the participant needs to be granted this scope (exchange code or generic function). */
  qualification?: string;
  /** Organisation types that may hold this scope; absent = any admitted participant. */
  organizationTypes?: string[];
  /** True when a token with this scope must carry a professional (Dezi verklaring). */
  requiresUser?: boolean;
}

/** One FHIR search the holder may answer for an exchange. */
export interface AllowedQuery {
  resourceType: string;
  /** Search parameters that may appear (besides the patient parameter). */
  params: string[];
  /**
   * Values a parameter may take, per parameter name; a parameter not named here may take any
   * value. A `category` list also decides which resources of this type belong to `dataCategory`:
   * a resource must carry one of these category codes. Absent (older documents): no limits.
   */
  values?: Record<string, string[]>;
  /** GF data-category code that the results belong to. */
  dataCategory: string;
}

export interface ExchangeDefinition {
  code: ExchangeCode;
  name: { nl: string; en: string };
  /** Scope(s) a requester asks for to take part in this exchange. */
  scopes: string[];
  /** GF data-category codes the exchange may reveal (NVI lookups are filtered by these). */
  dataCategories: string[];
  /** UZI role codes allowed as requester. */
  requesterRoles: string[];
  /** Organisation type codes allowed as requester. */
  requesterOrganizationTypes: string[];
  /** Organisation type codes that hold data for this exchange. */
  holderOrganizationTypes: string[];
  legalBasis: LegalBasis[];
  /** Whether a clinician may break the glass (with a reason) when consent is absent. */
  emergencyAccess: boolean;
  /** Mitz event code for the closed question. */
  consentEventCode: string;
  /** Purpose of use (v3 ActReason), e.g. TREAT. */
  purposeOfUse: string;
  queries: AllowedQuery[];
  /** Whether citizens see the professional's name in their access log. */
  showProfessionalNameToCitizen: boolean;
  /**
   * A workflow exchange by notified pull (src/node/workflow/): the sender creates a workflow Task
   * with this code, notifies the receiver (scope `notificationScope`, no professional needed) and
   * the receiver pulls exactly what the Task names, of these resource types, while it is active.
   */
  notifiedPull?: NotifiedPullDefinition;
}

export interface NotifiedPullDefinition {
  /** Task.code of the workflow Task (e.g. SNOMED 308292007 "Overdracht van zorg"). */
  taskCode: { system: string; code: string; display: string };
  /** Resource types a workflow Task of this exchange may name for the receiver to pull. */
  resourceTypes: string[];
  /** Node scope the sender's node asks for to deliver a notification Task. */
  notificationScope: string;
}

export interface AgreementsDocument {
  /** Monotonically increasing; parts refuse an older version than the one they hold. */
  version: number;
  issuedAt: string;
  issuer: string;
  network: {
    consentMode: ConsentMode;
    /** Seconds a part may cache a participant's certificate status. */
    statusMaxAgeSeconds: number;
  };
  scopes: ScopeDefinition[];
  exchanges: ExchangeDefinition[];
}
