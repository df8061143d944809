import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Endpoint, Organization, OrganizationAffiliation } from '@medplum/fhirtypes';
import { HttpError } from '../kit/fhir/outcome.ts';
import { CODE_SYSTEM, SYSTEM } from '../kit/identifiers/index.ts';
import { custodianAssignedIdentifier } from '../kit/fhir/profiles/index.ts';
import { createService, type RunningService } from '../kit/http/service.ts';
import { migrate } from '../kit/store/migrate.ts';
import { openPgliteStore } from '../kit/store/pglite.ts';
import { staticNetwork, type TestPki } from '../kit/testing/test-pki.ts';
import { MANDATE } from './codes.ts';
import { createDirectoryPart } from './part.ts';

// Shared test data: the IG's own examples and small builders for entries of a care provider.

const here = dirname(fileURLToPath(import.meta.url));

export function fixture<T>(name: string): T {
  return JSON.parse(readFileSync(join(here, 'fixtures', `${name}.json`), 'utf8')) as T;
}

/** Predicate for assert.rejects: an HttpError with this status. */
export const status = (code: number) => (err: unknown) => {
  if (!(err instanceof HttpError)) throw err;
  if (err.status !== code) throw new Error(`expected ${code}, got ${err.status}: ${err.message}`);
  return true;
};

export const custodian = (ura: string, value: string) =>
  custodianAssignedIdentifier('urn:ietf:rfc:3986', `urn:uuid:${value}`, { system: SYSTEM.ura, value: ura });

let n = 0;
export const uuid = () => `00000000-0000-4000-8000-${String(++n).padStart(12, '0')}`;

export function organization(ura: string, name = `Org ${ura}`): Organization {
  return {
    resourceType: 'Organization',
    // The URA is itself the custodian-assigned identifier, assigned by the KvK (as in the IG examples).
    identifier: [custodianAssignedIdentifier(SYSTEM.ura, ura, { system: SYSTEM.kvk, value: '50000535' })],
    active: true,
    name,
    type: [{ coding: [{ system: SYSTEM.organizationType, code: 'Z3' }] }],
  };
}

export function endpoint(ura: string, vendorKvk: string, address = `https://${ura}.example.org/fhir`): Endpoint {
  return {
    resourceType: 'Endpoint',
    identifier: [custodian(ura, uuid())],
    status: 'active',
    connectionType: { system: CODE_SYSTEM.endpointConnectionType, code: 'hl7-fhir-rest' },
    payloadType: [{ coding: [{ system: CODE_SYSTEM.dataCategories, code: 'MedicationRequest' }] }],
    payloadMimeType: ['application/fhir+json; fhirVersion=4.0'],
    managingOrganization: { identifier: { system: SYSTEM.kvk, value: vendorKvk } },
    address,
  };
}

export function mandate(ura: string, vendorKvk: string, code: string = MANDATE.careProviderAdmin, active = true): OrganizationAffiliation {
  return {
    resourceType: 'OrganizationAffiliation',
    identifier: [custodian(ura, uuid())],
    active,
    organization: { identifier: { system: SYSTEM.ura, value: ura } },
    participatingOrganization: { identifier: { system: SYSTEM.kvk, value: vendorKvk } },
    code: [{ coding: [{ system: MANDATE.system, code }] }],
  };
}

/** The directory part over mutual TLS on its own PGlite store, tokens off (they are tested with the trust part). */
export async function directoryForTest(pki: TestPki): Promise<RunningService> {
  const part = createDirectoryPart({ mode: 'off' });
  const store = await openPgliteStore('directory');
  await migrate(store, part.migrations);
  return createService(part, { tls: await pki.identity('90000001', { name: 'directory' }), network: staticNetwork({}), store });
}
