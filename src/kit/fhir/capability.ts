import type { CapabilityStatement, CapabilityStatementRestSecurity, OperationDefinition } from '@medplum/fhirtypes';
import type { CapabilityInput, SearchParamDeclaration } from '../part.ts';

// The CapabilityStatement of a FHIR base, built from the same declarations the routes and the
// search code use (CapabilityInput), so what a part declares is what it serves.

export const SECURITY_SERVICE_SYSTEM = 'http://terminology.hl7.org/CodeSystem/restful-security-service';
/** The SMART extension that names the token endpoint in rest.security. */
export const OAUTH_URIS_EXTENSION = 'http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris';

/**
 * The convention for a search parameter served only with one modifier: its documentation says
 * "with the :identifier modifier only" (R4 CapabilityStatement has no element for it).
 */
export const MODIFIER_ONLY = /with the :([a-z-]+) modifier only/i;

/** The query keys a search serves for these declarations (name, or name:modifier). */
export function servedKeys(params: SearchParamDeclaration[]): string[] {
  return params.map((p) => {
    const modifier = MODIFIER_ONLY.exec(p.documentation ?? '')?.[1];
    return modifier ? `${p.name}:${modifier}` : p.name;
  });
}

/** Mutual TLS and bearer tokens, with the token endpoint that issues them. */
export function restSecurity(tokenEndpoint: string): CapabilityStatementRestSecurity {
  return {
    cors: false,
    service: [
      { coding: [{ system: SECURITY_SERVICE_SYSTEM, code: 'Certificates' }], text: 'Mutual TLS with a network (UZI-style) certificate' },
      { coding: [{ system: SECURITY_SERVICE_SYSTEM, code: 'OAuth' }], text: 'OAuth 2 bearer access tokens bound to that certificate (RFC 8705)' },
    ],
    extension: [{ url: OAUTH_URIS_EXTENSION, extension: [{ url: 'token', valueUri: tokenEndpoint }] }],
    description: `Mutual TLS with a network certificate; OAuth 2 access tokens bound to that certificate (RFC 8705), from ${tokenEndpoint}.`,
  };
}

/** The OperationDefinitions a base serves, by id. */
export function operationDefinitions(input: CapabilityInput | undefined): Map<string, OperationDefinition> {
  return new Map((input?.operations ?? []).map((o) => [o.definition.id as string, o.definition]));
}

export function capabilityStatement(
  part: string,
  baseUrl: string,
  input: CapabilityInput | undefined,
  tokenEndpoint: string,
): CapabilityStatement {
  return {
    resourceType: 'CapabilityStatement',
    status: 'active',
    date: new Date().toISOString().slice(0, 10),
    kind: 'instance',
    name: `LDN_${part.replace(/[^A-Za-z0-9]/g, '_')}`,
    publisher: 'LDN',
    description: input?.description ?? `LDN part ${part}`,
    software: { name: 'LDN', version: '0.1.0' },
    implementation: { description: `LDN ${part}`, url: baseUrl },
    fhirVersion: '4.0.1',
    format: ['application/fhir+json', 'json'],
    rest: [
      {
        mode: 'server',
        ...(input?.openApiPath ? { documentation: `Non-FHIR API of this part: ${baseUrl}${input.openApiPath} (OpenAPI 3.1)` } : {}),
        security: restSecurity(tokenEndpoint),
        resource: (input?.resources ?? []).map((r) => ({
          type: r.type as 'Patient',
          ...(r.profile ? { profile: r.profile } : {}),
          ...(r.documentation ? { documentation: r.documentation } : {}),
          interaction: r.interactions.map((code) => ({ code })),
          ...(r.searchInclude?.length ? { searchInclude: r.searchInclude } : {}),
          ...(r.searchRevInclude?.length ? { searchRevInclude: r.searchRevInclude } : {}),
          searchParam: (r.searchParams ?? []).map((p) => ({ name: p.name, type: p.type, ...(p.documentation ? { documentation: p.documentation } : {}) })),
        })),
        interaction: (input?.systemInteractions ?? []).map((code) => ({ code })),
        operation: (input?.operations ?? []).map((o) => ({ name: o.name, definition: o.definition.url as string })),
      },
    ],
  };
}
