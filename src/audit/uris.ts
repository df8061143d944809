// URIs the audit module needs that the kit's identifiers module does not (yet) hold.
// Kept in one place so that nothing else spells them out (see kit/identifiers/systems.ts).

export const AUDIT_CODE_SYSTEM = {
  /** DICOM audit event types (BALP uses "rest" for RESTful activity). */
  eventType: 'http://terminology.hl7.org/CodeSystem/audit-event-type',
  restfulInteraction: 'http://hl7.org/fhir/restful-interaction',
  dicom: 'http://dicom.nema.org/resources/ontology/DCM',
  participationType: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType',
  entityType: 'http://terminology.hl7.org/CodeSystem/audit-entity-type',
  objectRole: 'http://terminology.hl7.org/CodeSystem/object-role',
  balpEntityType: 'https://profiles.ihe.net/ITI/BALP/CodeSystem/BasicAuditEntityType',
  /** LDN: the kind of detail carried on entity.detail. */
  detailType: 'https://ldn.example.nl/fhir/CodeSystem/audit-detail',
} as const;

export const AUDIT_SYSTEM = {
  /**
   * A node's PRS pseudonym token for the patient, addressed to the transparency part (base64url
   * JSON {evaluated_output, blind_factor}). Only in transit: the part replaces it by its stable
   * pseudonym (SYSTEM.transparencyPseudonym) before anything is stored.
   */
  transparencyPseudonymToken: 'https://ldn.example.nl/fhir/NamingSystem/transparency-pseudonym-token',
  /** Opaque key the transparency log's citizen view gives all events of one access (one trace id). */
  accessGroup: 'https://ldn.example.nl/fhir/NamingSystem/access-group',
} as const;

export const AUDIT_EXTENSION = {
  /** Position of the event in the transparency log (for the inclusion proof). */
  leafIndex: 'https://ldn.example.nl/fhir/StructureDefinition/transparency-leaf-index',
  /** W3C trace context header value (traceparent) that ties requester and holder events. */
  traceparent: 'https://ldn.example.nl/fhir/StructureDefinition/traceparent',
  /** Free-text reason given when the glass was broken (emergency access). */
  emergencyReason: 'https://ldn.example.nl/fhir/StructureDefinition/emergency-reason',
} as const;
