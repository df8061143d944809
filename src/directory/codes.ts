import { CODE_SYSTEM } from '../kit/identifiers/index.ts';

// Directory-specific codes (GF IG 0.10, nl-gf-authorization-type-cs). URIs come from the kit.

export const DIRECTORY_TYPES = ['Organization', 'Location', 'HealthcareService', 'Endpoint', 'OrganizationAffiliation'] as const;
export type DirectoryType = (typeof DIRECTORY_TYPES)[number];

/** Update-client load order (SHOULD in the IG): referenced things before their referrers. */
export const LOAD_ORDER: readonly DirectoryType[] = DIRECTORY_TYPES;

export function isDirectoryType(t: unknown): t is DirectoryType {
  return typeof t === 'string' && (DIRECTORY_TYPES as readonly string[]).includes(t);
}

export const MANDATE = {
  system: CODE_SYSTEM.authorizationTypes,
  /** Vendor may write all four entry types for the care provider. */
  careProviderAdmin: 'lrza-careprovider-admin',
  /** Vendor may write Endpoints only. */
  endpointAdmin: 'lrza-endpoint-admin',
} as const;

/** Which entry types each mandate code lets the vendor write. */
export const MANDATE_SCOPE: Record<string, readonly DirectoryType[]> = {
  [MANDATE.careProviderAdmin]: ['Organization', 'Location', 'HealthcareService', 'Endpoint'],
  [MANDATE.endpointAdmin]: ['Endpoint'],
};
