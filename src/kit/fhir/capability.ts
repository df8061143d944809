import type { CapabilityStatement } from '@medplum/fhirtypes';
import type { CapabilityInput } from '../part.ts';

export function capabilityStatement(part: string, baseUrl: string, input: CapabilityInput | undefined): CapabilityStatement {
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
        security: {
          cors: false,
          description: 'Mutual TLS with a network certificate; OAuth 2 access tokens bound to that certificate (RFC 8705).',
        },
        resource: (input?.resources ?? []).map((r) => ({
          type: r.type as 'Patient',
          ...(r.profile ? { profile: r.profile } : {}),
          interaction: r.interactions.map((code) => ({ code })),
          searchParam: (r.searchParams ?? []).map((p) => ({ name: p.name, type: p.type })),
        })),
        interaction: (input?.systemInteractions ?? []).map((code) => ({ code })),
        operation: (input?.operations ?? []).map((o) => ({ name: o.name, definition: o.definition })),
      },
    ],
  };
}
