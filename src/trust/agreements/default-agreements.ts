import type { AgreementsDocument, AllowedQuery, ExchangeDefinition, ScopeDefinition } from './types.ts';
import { EXPORT_SCOPE, HDAB_ORGANIZATION_TYPE } from '../../secondary-use/contract.ts';

// The sandbox network's agreements: which exchanges exist, who may take part in them, under which
// legal basis, and which FHIR searches a holder answers for each. Roles are UZI role codes
// (src/kit/identifiers/roles.ts), organisation types Vektis codes, data categories GF codes.
// The trust part signs and serves this document; nothing else in the code base hard-codes policy.

const CONSENT_EVENT_CODE = 'GGC002';

const q = (resourceType: string, dataCategory: string, params: string[] = [], values?: Record<string, string[]>): AllowedQuery => ({
  resourceType,
  dataCategory,
  params,
  ...(values ? { values } : {}),
});

const PATIENT = q('Patient', 'Patient', ['identifier']);
const ALLERGIES = q('AllergyIntolerance', 'AllergyIntolerance', ['clinical-status']);
const CONDITIONS = q('Condition', 'Condition', ['clinical-status', 'category'], { category: ['problem-list-item', 'encounter-diagnosis'] });
const MEDICATION_USE = q('MedicationStatement', 'MedicationUse', ['status', '_include'], { _include: ['MedicationStatement:medication'] });
const MEDICATION_DISPENSE = q('MedicationDispense', 'MedicationUse', ['_include'], { _include: ['MedicationDispense:medication'] });
const MEDICATION_REQUEST = q('MedicationRequest', 'MedicationRequest', ['status', 'category', '_include'], { _include: ['MedicationRequest:medication'] });
const ALERTS = q('Flag', 'Alert', ['status']);
// Observation category codes (HL7 observation-category) decide which data category a result is in.
const VITALS = q('Observation', 'ObservationVitalSigns', ['category', 'code', 'date'], { category: ['vital-signs'] });
const LAB = q('Observation', 'ObservationLaboratory', ['category', 'code', 'date'], { category: ['laboratory'] });
const PROCEDURES = q('Procedure', 'Procedure', ['date']);
const ENCOUNTERS = q('Encounter', 'Encounter', ['class', 'date']);
const IMMUNIZATIONS = q('Immunization', 'MedicationUse', []);
const DEVICES = q('DeviceUseStatement', 'Device', ['_include'], { _include: ['DeviceUseStatement:device'] });
const ADVANCE_DIRECTIVES = q('Consent', 'AdvanceDirective', ['category']);
const DOCUMENTS = q('Composition', 'Document', ['type']);
const TASKS = q('Task', 'Request', ['status', 'code']);
const IMAGING = q('ImagingStudy', 'Imaging', ['started', 'modality']);
const IMAGING_REPORTS = q('DiagnosticReport', 'DiagnosticReport', ['category']);

const PHYSICIANS = ['01.015', '01.016', '01.018', '01.019', '01.024', '01.030', '01.045', '01.050'];
const NURSES = ['30.000', '30.015'];
const PHARMACISTS = ['17.000', '17.060'];
const ALL_CARE_TYPES = ['V4', 'Z3', 'J8', 'T2', 'X3', 'K9', 'A1'];

function exchange(e: Omit<ExchangeDefinition, 'consentEventCode' | 'purposeOfUse' | 'scopes' | 'dataCategories'> & { scopes?: string[] }): ExchangeDefinition {
  return {
    ...e,
    scopes: e.scopes ?? [e.code],
    dataCategories: [...new Set(e.queries.map((x) => x.dataCategory))],
    consentEventCode: CONSENT_EVENT_CODE,
    purposeOfUse: 'TREAT',
  };
}

const EXCHANGES: ExchangeDefinition[] = [
  exchange({
    code: 'acute-zorg',
    name: { nl: 'Acute zorg', en: 'Acute care' },
    requesterRoles: ['01.045', '01.016', '01.018', '01.019', '01.024', '01.050', '01.015', '30.000'],
    requesterOrganizationTypes: ['V4', 'Z3'],
    holderOrganizationTypes: ['V4', 'Z3', 'J8', 'A1', 'T2'],
    legalBasis: ['explicit-consent', 'opt-out', 'emergency-access'],
    emergencyAccess: true,
    queries: [PATIENT, ALLERGIES, MEDICATION_USE, MEDICATION_DISPENSE, MEDICATION_REQUEST, CONDITIONS, ALERTS, VITALS, LAB],
    showProfessionalNameToCitizen: true,
  }),
  exchange({
    code: 'bgz',
    name: { nl: 'Basisgegevensset Zorg', en: 'Patient summary (BgZ)' },
    requesterRoles: [...PHYSICIANS, ...NURSES],
    requesterOrganizationTypes: ['V4', 'Z3', 'T2', 'X3'],
    holderOrganizationTypes: ['V4', 'Z3'],
    legalBasis: ['explicit-consent', 'opt-out'],
    emergencyAccess: false,
    queries: [
      PATIENT, ALLERGIES, CONDITIONS, MEDICATION_USE, MEDICATION_REQUEST, MEDICATION_DISPENSE, ALERTS, VITALS, LAB,
      PROCEDURES, ENCOUNTERS, IMMUNIZATIONS, DEVICES, ADVANCE_DIRECTIVES,
    ],
    showProfessionalNameToCitizen: true,
  }),
  exchange({
    code: 'medicatieoverdracht',
    name: { nl: 'Medicatieoverdracht', en: 'Medication transfer' },
    requesterRoles: [...PHYSICIANS, ...PHARMACISTS, ...NURSES],
    // NCP: the national contact point, for a foreign pharmacist (src/ncpeh/roles.ts maps her role).
    requesterOrganizationTypes: ['V4', 'Z3', 'J8', 'A1', 'T2', 'X3', 'NCP'],
    holderOrganizationTypes: ['V4', 'Z3', 'J8', 'A1'],
    // Searches rest on consent; a prescription sent by notified pull rests on the workflow Task.
    legalBasis: ['explicit-consent', 'opt-out', 'treatment-relationship'],
    emergencyAccess: false,
    queries: [PATIENT, MEDICATION_REQUEST, MEDICATION_DISPENSE, MEDICATION_USE, ALLERGIES],
    showProfessionalNameToCitizen: true,
    notifiedPull: {
      // SNOMED 16076005 "voorschrijven" (prescription) as the workflow's intent.
      taskCode: { system: 'http://snomed.info/sct', code: '16076005', display: 'Voorschrijven van medicatie' },
      resourceTypes: ['Patient', 'MedicationRequest', 'AllergyIntolerance', 'Observation'],
      notificationScope: 'medicatieoverdracht-notification',
    },
  }),
  exchange({
    code: 'eoverdracht',
    name: { nl: 'Verpleegkundige overdracht', en: 'Nursing handover' },
    scopes: ['eoverdracht', 'eoverdracht-receiver'],
    requesterRoles: [...NURSES, '01.015'],
    requesterOrganizationTypes: ['T2', 'X3', 'V4', 'Z3'],
    holderOrganizationTypes: ['V4', 'T2', 'X3'],
    // Notified pull: the sender names the receiver; that treatment relationship is the basis.
    legalBasis: ['treatment-relationship'],
    emergencyAccess: false,
    queries: [PATIENT, TASKS, DOCUMENTS, CONDITIONS, ALLERGIES, MEDICATION_USE],
    showProfessionalNameToCitizen: true,
    notifiedPull: {
      taskCode: { system: 'http://snomed.info/sct', code: '308292007', display: 'Overdracht van zorg' },
      resourceTypes: ['Patient', 'Composition', 'Condition', 'AllergyIntolerance', 'MedicationStatement', 'Observation', 'Procedure', 'CareTeam'],
      notificationScope: 'eoverdracht-notification',
    },
  }),
  exchange({
    code: 'beeldbeschikbaarheid',
    name: { nl: 'Beeldbeschikbaarheid', en: 'Image availability' },
    requesterRoles: ['01.030', '01.016', '01.018', '01.019', '01.045', '01.050', '01.015'],
    requesterOrganizationTypes: ['V4', 'Z3'],
    holderOrganizationTypes: ['V4'],
    legalBasis: ['explicit-consent', 'opt-out', 'emergency-access'],
    emergencyAccess: true,
    queries: [PATIENT, IMAGING, IMAGING_REPORTS],
    showProfessionalNameToCitizen: true,
  }),
  exchange({
    code: 'ips',
    name: { nl: 'Internationale patiëntsamenvatting', en: 'International Patient Summary' },
    requesterRoles: [...PHYSICIANS],
    // NCP: the national contact point, for a foreign doctor (src/ncpeh/roles.ts maps her role).
    requesterOrganizationTypes: ['V4', 'Z3', 'NCP'],
    holderOrganizationTypes: ['V4', 'Z3', 'J8'],
    legalBasis: ['explicit-consent'],
    emergencyAccess: false,
    queries: [PATIENT, ALLERGIES, CONDITIONS, MEDICATION_USE, MEDICATION_REQUEST, IMMUNIZATIONS, PROCEDURES, DEVICES, LAB, VITALS],
    showProfessionalNameToCitizen: false,
  }),
];

/** One entry allowing what either allows: the union of parameters and of listed values. */
function mergeQueries(a: AllowedQuery, b: AllowedQuery): AllowedQuery {
  const params = [...new Set([...a.params, ...b.params])];
  // A parameter stays limited only if neither entry allows it with any value.
  const limits = (x: AllowedQuery, p: string) => x.values?.[p] !== undefined || !x.params.includes(p);
  const names = [...new Set([...Object.keys(a.values ?? {}), ...Object.keys(b.values ?? {})])].filter((p) => limits(a, p) && limits(b, p));
  const values = Object.fromEntries(names.map((p) => [p, [...new Set([...(a.values?.[p] ?? []), ...(b.values?.[p] ?? [])])]]));
  return { resourceType: a.resourceType, dataCategory: a.dataCategory, params, ...(names.length ? { values } : {}) };
}

/** Organisation type of the network operator, whose citizen portal asks on the citizen's behalf. */
const OPERATOR_TYPE = 'NB';

// The citizen's own right of access (AVG art. 15, WGBO): no professional, no consent question,
// every patient-data search of the other exchanges. It has no node scope: holders recognise it
// by the operator's certificate plus the citizen's own id_token (src/node/source/citizen-api.ts).
function citizenAccess(others: ExchangeDefinition[]): ExchangeDefinition {
  const queries = new Map<string, AllowedQuery>();
  for (const query of others.flatMap((e) => e.queries)) {
    if (!CITIZEN_RESOURCE_TYPES.test(query.resourceType)) continue;
    const key = `${query.resourceType} ${query.dataCategory}`;
    const known = queries.get(key);
    queries.set(key, known ? mergeQueries(known, query) : structuredClone(query));
  }
  return {
    ...exchange({
      code: 'citizen-access',
      name: { nl: 'Inzage door de patiënt', en: 'Patient\'s own access' },
      scopes: [],
      requesterRoles: [],
      requesterOrganizationTypes: [OPERATOR_TYPE],
      holderOrganizationTypes: ALL_CARE_TYPES,
      legalBasis: ['patient-right-of-access'],
      emergencyAccess: false,
      queries: [...queries.values()],
      showProfessionalNameToCitizen: true,
    }),
    purposeOfUse: 'PATRQT',
  };
}

/** The patient data a citizen sees of herself (her studies and their reports listed; not documents or tasks: no viewer for those yet). */
const CITIZEN_RESOURCE_TYPES = /^(Patient|AllergyIntolerance|Condition|Medication\w*|Observation|Immunization|Procedure|Encounter|Flag|ImagingStudy|DiagnosticReport)$/;

EXCHANGES.push(citizenAccess(EXCHANGES));

const CENTRAL_SCOPES: ScopeDefinition[] = [
  { scope: 'prs:eval', audience: 'prs', description: 'Obtain a recipient-bound pseudonym (OPRF evaluation)', qualification: 'localization' },
  { scope: 'nvi:read', audience: 'nvi', description: 'Localise: search the referral index', qualification: 'localization' },
  { scope: 'nvi:write', audience: 'nvi', description: 'Register and remove referrals for own data', qualification: 'localization' },
  { scope: 'directory:read', audience: 'directory', description: 'Search and replicate the care-services directory' },
  { scope: 'directory:write', audience: 'directory', description: 'Feed own organisation, endpoints and services (ITI-130)', qualification: 'addressing' },
  { scope: 'consent:read', audience: 'consent', description: 'Ask the closed consent question; subscribe to consent changes', qualification: 'consent', organizationTypes: [...ALL_CARE_TYPES, 'NCP'] },
  { scope: 'consent:write', audience: 'consent', description: 'Record a consent on the patient\'s behalf', qualification: 'consent', organizationTypes: ALL_CARE_TYPES, requiresUser: true },
  { scope: 'transparency:write', audience: 'transparency', description: 'Append access events to the transparency log' },
  // Secondary use (issue 22): only the HDAB asks holders for a permit's Bulk Data export, as an organisation.
  { scope: EXPORT_SCOPE, audience: 'node', description: 'Bulk Data export of a data permit\'s cohort (HDAB only)', organizationTypes: [HDAB_ORGANIZATION_TYPE] },
];

function exchangeScopes(e: ExchangeDefinition): ScopeDefinition[] {
  const query = e.scopes.map((scope) => ({
    scope,
    audience: 'node',
    description: `${e.name.en}: query a holder`,
    qualification: e.code,
    organizationTypes: e.requesterOrganizationTypes,
    requiresUser: true,
  }));
  // Notified pull: the sender (a holder of the exchange) delivers the notification as an
  // organisation; no professional needs to be at hand when the outbox retries it.
  const notify = e.notifiedPull
    ? [{ scope: e.notifiedPull.notificationScope, audience: 'node', description: `${e.name.en}: notify a receiver`, qualification: e.code, organizationTypes: e.holderOrganizationTypes }]
    : [];
  return [...query, ...notify];
}

export function defaultAgreements(): AgreementsDocument {
  const exchanges = structuredClone(EXCHANGES);
  return {
    version: 1,
    issuedAt: '2025-01-01T00:00:00Z',
    issuer: 'Netwerkbeheer LDN',
    network: { consentMode: 'opt-in', statusMaxAgeSeconds: 30 },
    scopes: [...structuredClone(CENTRAL_SCOPES), ...exchanges.flatMap(exchangeScopes)],
    exchanges,
  };
}
