import type { OperationOutcomeIssue } from '@medplum/fhirtypes';
import { CODE_SYSTEM } from '../../identifiers/systems.ts';
import { codeSystemCodes } from '../bindings.ts';
import {
  AUTHORIZATION_SERVER_CODES,
  DATA_CATEGORY_CODES,
  HL7_ENDPOINT_PAYLOAD_TYPE_SYSTEM,
  KOPPELTAAL_CONNECTION_TYPE_SYSTEM,
} from './gf-codes.ts';
import { mcsdBase } from './organization.ts';
import { asArray, hasCoding, isObject, type Json, profileIssue, requirePresent, wrongType } from './rule-kit.ts';

// nl-gf-endpoint: where and how a party can be reached. connectionType and payloadType must use codes
// query clients know how to select on (nl-gf-connection-types-vs, nl-gf-payload-type-vs).

const P = 'nl-gf-endpoint';

export function checkEndpoint(r: Json): OperationOutcomeIssue[] {
  const type = wrongType(r, 'Endpoint', P);
  if (type.length) return type;
  const issues = [
    ...mcsdBase(r, 'Endpoint', P),
    ...(['status', 'managingOrganization', 'connectionType', 'payloadType', 'address'] as const).flatMap((prop) =>
      requirePresent(r, 'Endpoint', prop, P),
    ),
  ];
  const ct = r.connectionType;
  if (isObject(ct) && !(typeof ct.system === 'string' && typeof ct.code === 'string' && isConnectionType(ct.system, ct.code))) {
    issues.push(
      profileIssue('code-invalid', 'Endpoint.connectionType', `${P}: Endpoint.connectionType must be a code from nl-gf-connection-types-vs (HL7 endpoint-connection-type, ${CODE_SYSTEM.authorizationServerTypes} or Koppeltaal hti-smart-on-fhir)`),
    );
  }
  asArray(r.payloadType).forEach((concept, i) => {
    if (!hasCoding(concept, isPayloadType)) {
      issues.push(
        profileIssue('code-invalid', `Endpoint.payloadType[${i}]`, `${P}: each payloadType needs a coding from nl-gf-payload-type-vs (HL7 endpoint-payload-type or ${CODE_SYSTEM.dataCategories})`),
      );
    }
  });
  return issues;
}

function isConnectionType(system: string, code: string): boolean {
  if (system === CODE_SYSTEM.endpointConnectionType) return codeSystemCodes(system)?.has(code) ?? true;
  if (system === CODE_SYSTEM.authorizationServerTypes) return AUTHORIZATION_SERVER_CODES.has(code);
  return system === KOPPELTAAL_CONNECTION_TYPE_SYSTEM && code === 'hti-smart-on-fhir';
}

function isPayloadType(system: string, code: string): boolean {
  if (system === CODE_SYSTEM.dataCategories) return DATA_CATEGORY_CODES.has(code);
  // The HL7 value set also lists a few IHE format URNs; accepting that system whole is close enough.
  if (system === 'urn:oid:1.3.6.1.4.1.19376.1.2.3') return true;
  return system === HL7_ENDPOINT_PAYLOAD_TYPE_SYSTEM && (codeSystemCodes(system)?.has(code) ?? true);
}
