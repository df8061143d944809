import type { Bundle, BundleEntry, Endpoint, HealthcareService, Organization, OrganizationAffiliation } from '@medplum/fhirtypes';
import { custodianAssignedIdentifier } from '../kit/fhir/profiles/index.ts';
import { CODE_SYSTEM, SYSTEM } from '../kit/identifiers/index.ts';
import type { AgreementsDocument } from '../trust/contract.ts';
import { MANDATE } from './codes.ts';
import type { Caller } from './ownership.ts';

// A population of organisations (the sandbox's cast, a benchmark's generated one) as directory entries, grouped by who publishes them, as it happens in the
// network: each care provider publishes its Organization and (if hosted) its mandate to its
// vendor; the vendor publishes Endpoints and HealthcareServices for the providers it hosts; a
// self-hosting provider publishes its own. Ids are deterministic, so every node can find them.

/** An organisation to publish, and the node (by name) that serves it. */
export interface OrganizationToPublish {
  ura: string;
  agb: string;
  name: string;
  /** Vektis / Nictiz organisation-type code. */
  type: string;
  city: string;
  /** Node that serves it (one vendor node hosts several organisations). */
  node: string;
}

/** A vendor, with the URAs of the organisations it hosts. */
export interface VendorToPublish {
  kvk: string;
  name: string;
  hosts: string[];
}

export interface CastPublication {
  publisher: Caller;
  bundle: Bundle;
}

export interface PublishCastInput {
  organizations: readonly OrganizationToPublish[];
  vendors: readonly VendorToPublish[];
  /** Node name → node base URL. */
  nodeUrls: Readonly<Record<string, string>>;
  agreements: AgreementsDocument;
  /** FHIR base of an organisation on its node; default `${nodeUrl}/fhir/${ura}`. */
  addressOf?: (org: OrganizationToPublish, nodeUrl: string) => string;
  /** Endpoint validity start; default 2024-01-01. */
  since?: string;
}

export const castIds = {
  organization: (ura: string) => `org-${ura}`,
  endpoint: (ura: string) => `ep-${ura}-fhir`,
  service: (ura: string) => `hs-${ura}`,
  mandate: (ura: string, kvk: string) => `mandate-${ura}-${kvk}`,
};

const ownId = (ura: string, kind: string) => custodianAssignedIdentifier(`https://ldn.example.nl/directory/${kind}`, `${kind}-${ura}`, { system: SYSTEM.ura, value: ura });

function put(resource: Organization | Endpoint | HealthcareService | OrganizationAffiliation): BundleEntry {
  return { resource, request: { method: 'PUT', url: `${resource.resourceType}/${resource.id}` } };
}

function organizationEntry(org: OrganizationToPublish, hasEndpoint: boolean): Organization {
  return {
    resourceType: 'Organization',
    id: castIds.organization(org.ura),
    // The URA is the custodian-assigned identifier of an Organization (assigned via the KvK, as in the IG).
    identifier: [
      custodianAssignedIdentifier(SYSTEM.ura, org.ura, { system: SYSTEM.kvk, value: '00000000' }),
      { system: SYSTEM.agb, value: org.agb },
    ],
    active: true,
    name: org.name,
    type: [{ coding: [{ system: SYSTEM.organizationType, code: org.type }] }],
    address: [{ city: org.city, country: 'NL' }],
    ...(hasEndpoint ? { endpoint: [{ reference: `Endpoint/${castIds.endpoint(org.ura)}` }] } : {}),
  };
}

function endpointEntry(org: OrganizationToPublish, input: PublishCastInput, operator: Endpoint['managingOrganization']): Endpoint | null {
  const exchanges = input.agreements.exchanges.filter((e) => e.holderOrganizationTypes.includes(org.type));
  if (exchanges.length === 0) return null;
  const nodeUrl = input.nodeUrls[org.node];
  if (!nodeUrl) throw new Error(`no base URL for node ${org.node} (organisation ${org.ura})`);
  return {
    resourceType: 'Endpoint',
    id: castIds.endpoint(org.ura),
    identifier: [ownId(org.ura, 'endpoint')],
    status: 'active',
    connectionType: { system: CODE_SYSTEM.endpointConnectionType, code: 'hl7-fhir-rest' },
    name: `${org.name} FHIR R4`,
    managingOrganization: operator,
    period: { start: input.since ?? '2024-01-01' },
    // One concept per exchange: the LDN exchange code with the GF data categories it carries
    // (the profile requires a GF code in every payloadType concept).
    payloadType: exchanges.map((e) => ({
      coding: [
        { system: CODE_SYSTEM.exchange, code: e.code },
        ...e.dataCategories.map((c) => ({ system: CODE_SYSTEM.dataCategories, code: c })),
      ],
      text: e.name.en,
    })),
    payloadMimeType: ['application/fhir+json; fhirVersion=4.0'],
    address: (input.addressOf ?? ((o, u) => `${u}/fhir/${o.ura}`))(org, nodeUrl),
  };
}

function serviceEntry(org: OrganizationToPublish, endpoint: Endpoint | null): HealthcareService {
  return {
    resourceType: 'HealthcareService',
    id: castIds.service(org.ura),
    identifier: [ownId(org.ura, 'service')],
    active: true,
    providedBy: { reference: `Organization/${castIds.organization(org.ura)}` },
    type: [{ coding: [{ system: SYSTEM.organizationType, code: org.type }], text: org.name }],
    name: org.name,
    ...(endpoint ? { endpoint: [{ reference: `Endpoint/${endpoint.id}` }] } : {}),
  };
}

function mandateEntry(org: OrganizationToPublish, vendor: VendorToPublish): OrganizationAffiliation {
  return {
    resourceType: 'OrganizationAffiliation',
    id: castIds.mandate(org.ura, vendor.kvk),
    identifier: [ownId(org.ura, `mandate-${vendor.kvk}`)],
    active: true,
    organization: { reference: `Organization/${castIds.organization(org.ura)}` },
    participatingOrganization: { identifier: { system: SYSTEM.kvk, value: vendor.kvk }, display: vendor.name },
    code: [{ coding: [{ system: MANDATE.system, code: MANDATE.careProviderAdmin }] }],
  };
}

const transaction = (entry: BundleEntry[]): Bundle => ({ resourceType: 'Bundle', type: 'transaction', entry });

/** The publications in the order they must be applied (mandates before the vendor's writes). */
export function publishCast(input: PublishCastInput): CastPublication[] {
  const out: CastPublication[] = [];
  const vendorBundles = new Map<string, BundleEntry[]>();
  for (const org of input.organizations) {
    const vendor = input.vendors.find((v) => v.hosts.includes(org.ura));
    const operator = vendor
      ? { identifier: { system: SYSTEM.kvk, value: vendor.kvk }, display: vendor.name }
      : { reference: `Organization/${castIds.organization(org.ura)}` };
    const endpoint = endpointEntry(org, input, operator);
    const own: BundleEntry[] = [put(organizationEntry(org, endpoint !== null))];
    const service = serviceEntry(org, endpoint);
    if (vendor) {
      own.push(put(mandateEntry(org, vendor)));
      const v = vendorBundles.get(vendor.kvk) ?? [];
      if (endpoint) v.push(put(endpoint));
      v.push(put(service));
      vendorBundles.set(vendor.kvk, v);
    } else {
      if (endpoint) own.push(put(endpoint));
      own.push(put(service));
    }
    out.push({ publisher: { ura: org.ura }, bundle: transaction(own) });
  }
  for (const [kvk, entries] of vendorBundles) out.push({ publisher: { kvk }, bundle: transaction(entries) });
  return out;
}

/**
 * Makes publications re-runnable against a directory that may already hold them: adds the
 * current version as If-Match to every entry that exists (read with `currentVersion`).
 */
export async function withCurrentVersions(
  publication: CastPublication,
  currentVersion: (type: string, id: string) => Promise<string | null>,
): Promise<CastPublication> {
  const entry = await Promise.all(
    (publication.bundle.entry ?? []).map(async (e) => {
      const [type, id] = (e.request?.url ?? '').split('/');
      const v = await currentVersion(type, id);
      return v === null ? e : { ...e, request: { ...(e.request as NonNullable<BundleEntry['request']>), ifMatch: `W/"${v}"` } };
    }),
  );
  return { ...publication, bundle: { ...publication.bundle, entry } };
}
