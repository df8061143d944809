import type { AgreementsDocument } from '../../trust/contract.ts';

// The API catalogue ("bibliotheek"): every interface of the network, its standard and version,
// where it describes itself (CapabilityStatement or OpenAPI), the scopes that open it and the
// exchanges that use it. Built from the network view and the agreements in force, so it lists
// what runs, not what someone wrote down once.

export interface CatalogueEntry {
  id: string;
  name: { nl: string; en: string };
  /** Manifest service name, or "node". */
  part: string;
  standard: string;
  version: string;
  kind: 'FHIR' | 'OpenAPI' | 'OpenID Connect';
  baseUrl: string;
  /** CapabilityStatement, OpenAPI document or OpenID discovery. */
  description: string;
  scopes: string[];
  exchanges: string[];
}

export interface Catalogue {
  generatedAt: string;
  agreementsVersion?: number;
  entries: CatalogueEntry[];
}

interface Spec {
  id: string;
  name: { nl: string; en: string };
  standard: string;
  version: string;
  kind: CatalogueEntry['kind'];
  /** Path of the self-description under the base. */
  describedAt: string;
  /** Which exchanges use it: all of them, or only the citizen's own access. */
  usedBy: 'all' | 'clinical' | 'citizen';
}

const SPECS: Record<string, Spec[]> = {
  trust: [
    { id: 'trust-api', name: { nl: 'Afsprakenstelsel: register, certificaten, afspraken, OAuth 2', en: 'Trust framework: register, certificates, agreements, OAuth 2' }, standard: 'OAuth 2 (RFC 6749, 7523, 8705, 8414), JWS', version: '0.1.0', kind: 'OpenAPI', describedAt: '/openapi.json', usedBy: 'all' },
  ],
  directory: [
    { id: 'directory-fhir', name: { nl: 'Adresboek zorgaanbieders (mCSD)', en: 'Care-services directory (mCSD)' }, standard: 'HL7 FHIR R4, IHE mCSD ITI-130/90/91 (GF adressering IG)', version: '4.0.1', kind: 'FHIR', describedAt: '/metadata', usedBy: 'all' },
  ],
  prs: [
    { id: 'prs-api', name: { nl: 'Pseudoniemendienst', en: 'Pseudonym service' }, standard: 'RFC 9497 OPRF (ristretto255-SHA512), JWE', version: '0.1.0', kind: 'OpenAPI', describedAt: '/openapi.json', usedBy: 'all' },
  ],
  nvi: [
    { id: 'nvi-fhir', name: { nl: 'Nationale verwijsindex', en: 'National referral index' }, standard: 'HL7 FHIR R4, GF lokalisatie List-profiel', version: '4.0.1', kind: 'FHIR', describedAt: '/metadata', usedBy: 'all' },
  ],
  consent: [
    { id: 'consent-fhir', name: { nl: 'Toestemmingen (Consent)', en: 'Consents (Consent)' }, standard: 'HL7 FHIR R4 Consent, Subscription', version: '4.0.1', kind: 'FHIR', describedAt: '/metadata', usedBy: 'all' },
    { id: 'consent-closed-question', name: { nl: 'Gesloten vraag (Mitz-achtig)', en: 'Closed question (Mitz-like)' }, standard: 'Mitz attribute set as JSON', version: '0.1.0', kind: 'OpenAPI', describedAt: '/openapi.json', usedBy: 'clinical' },
  ],
  transparency: [
    { id: 'transparency-fhir', name: { nl: 'Inzagelogboek (AuditEvent)', en: 'Access log (AuditEvent)' }, standard: 'HL7 FHIR R4 AuditEvent, NEN 7513', version: '4.0.1', kind: 'FHIR', describedAt: '/metadata', usedBy: 'all' },
    { id: 'transparency-proofs', name: { nl: 'Controleerbaar logboek: boomkoppen en bewijzen', en: 'Verifiable log: tree heads and proofs' }, standard: 'Merkle tree (RFC 6962 style), JWS', version: '0.1.0', kind: 'OpenAPI', describedAt: '/openapi.json', usedBy: 'all' },
  ],
  identity: [
    { id: 'identity-oidc', name: { nl: 'Inloggen zorgverleners (Dezi-achtig)', en: 'Professional login (Dezi-like)' }, standard: 'OpenID Connect (code + PKCE), Dezi verklaring', version: '1.0', kind: 'OpenID Connect', describedAt: '/.well-known/openid-configuration', usedBy: 'clinical' },
  ],
  'citizen-identity': [
    { id: 'citizen-identity-oidc', name: { nl: 'Inloggen burgers (DigiD-achtig)', en: 'Citizen login (DigiD-like)' }, standard: 'OpenID Connect (code + PKCE)', version: '1.0', kind: 'OpenID Connect', describedAt: '/.well-known/openid-configuration', usedBy: 'citizen' },
  ],
};

/** An organisation's open interface as the care-services directory lists it. */
export interface KnownTenant {
  ura: string;
  name: string;
  fhirBase: string;
}

export function buildCatalogue(input: {
  parts: Array<{ name: string; url: string }>;
  nodes: Array<{ name: string; url: string }>;
  agreements?: AgreementsDocument;
  /** Organisations whose FHIR base the directory knows: listed by their real base, not a {URA} template. */
  tenants?: KnownTenant[];
}): Catalogue {
  const exchanges = input.agreements?.exchanges.map((e) => e.code) ?? [];
  const usedBy = (u: Spec['usedBy']) => (u === 'all' ? exchanges : u === 'citizen' ? exchanges.filter((e) => e === 'citizen-access') : exchanges.filter((e) => e !== 'citizen-access'));
  const scopesOf = (audience: string) => input.agreements?.scopes.filter((s) => s.audience === audience).map((s) => s.scope) ?? [];
  const entries: CatalogueEntry[] = [];
  for (const part of input.parts) {
    for (const spec of SPECS[part.name] ?? []) {
      entries.push({
        id: spec.id,
        name: spec.name,
        part: part.name,
        standard: spec.standard,
        version: spec.version,
        kind: spec.kind,
        baseUrl: part.url,
        description: `${part.url}${spec.describedAt}`,
        scopes: scopesOf(part.name),
        exchanges: usedBy(spec.usedBy),
      });
    }
  }
  for (const node of input.nodes) {
    const fhir = { part: 'node', standard: 'HL7 FHIR R4 (allow-listed searches per exchange)', version: '4.0.1', kind: 'FHIR' as const, scopes: scopesOf('node'), exchanges: usedBy('clinical') };
    const tenants = (input.tenants ?? []).filter((t) => t.fhirBase.startsWith(`${node.url}/org/`)).sort((a, b) => a.ura.localeCompare(b.ura));
    for (const t of tenants) {
      entries.push({
        ...fhir,
        id: `node-${node.name}-${t.ura}-fhir`,
        name: { nl: `Open koppelvlak van ${t.name} (URA ${t.ura}, node ${node.name})`, en: `Open interface of ${t.name} (URA ${t.ura}, node ${node.name})` },
        baseUrl: t.fhirBase,
        description: `${t.fhirBase}/metadata`,
      });
    }
    // Organisations the directory does not (yet) list: the pattern their bases follow.
    if (tenants.length === 0) {
      entries.push({
        ...fhir,
        id: `node-${node.name}-fhir`,
        name: { nl: `Open koppelvlak per zorgaanbieder (node ${node.name})`, en: `Open interface per care provider (node ${node.name})` },
        baseUrl: `${node.url}/org/{URA}/fhir`,
        description: `${node.url}/org/{URA}/fhir/metadata`,
      });
    }
    entries.push({
      id: `node-${node.name}-api`,
      name: { nl: `Node ${node.name}: autorisatieserver, meldingen, eigen gegevens`, en: `Node ${node.name}: authorisation server, notifications, own data` },
      part: 'node',
      standard: 'OAuth 2 (RFC 8705, 8414), JSON',
      version: '0.1.0',
      kind: 'OpenAPI',
      baseUrl: node.url,
      description: `${node.url}/openapi.json`,
      scopes: scopesOf('node'),
      exchanges: usedBy('all'),
    });
  }
  return { generatedAt: new Date().toISOString(), ...(input.agreements ? { agreementsVersion: input.agreements.version } : {}), entries };
}
