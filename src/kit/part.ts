import type { X509Certificate } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { RateLimitedDoor } from './http/rate-limits.ts';
import type { Registry } from 'prom-client';
import type { ReadinessCheck } from './http/operability.ts';
import type { PartKeys } from './keys/part-keys.ts';
import type { Migration, Store } from './store/store.ts';
import type { TraceContext } from './trace.ts';

// The shape every part of the network has. A part is a Fastify plugin with its own schema,
// migrations and declared public paths; the service factory (kit/http/service.ts) wraps it
// in HTTPS with mutual TLS, OperationOutcome errors, /metadata and /health.

/** The verified TLS peer of a request: who is calling, from their network certificate. */
export interface Peer {
  /** URA from the UZI-style SAN otherName ('' for vendor certificates, which carry kvk). */
  ura: string;
  /** KvK number of a vendor certificate (SAN URI urn:kvk:<n>). */
  kvk?: string;
  /** UZI system number from the SAN otherName. */
  systemNumber: string;
  agb: string;
  /** Subject common name. */
  commonName: string;
  /** RFC 8705 x5t#S256: base64url SHA-256 of the DER certificate. */
  thumbprint: string;
  serialNumber: string;
  certificate: X509Certificate;
  /** DER of the peer certificate (for x5c comparisons). */
  der: Buffer;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Set on every request that arrived with a verified client certificate. */
    peer?: Peer;
    /** W3C trace context of this request; pass it to PartClient calls as `trace`. */
    trace: TraceContext;
  }
}

/** PEM material of this part's own network identity. */
export interface TlsIdentity {
  cert: string;
  key: string;
  /** Network CA certificate(s) to trust. */
  ca: string;
}

/** Where the other parts are (manifest service name → base URL). */
export interface NetworkView {
  url(part: string): string;
  has(part: string): boolean;
}

export interface PartContext {
  /** Manifest service name of this part, e.g. "nvi". */
  name: string;
  /** Public base URL of this part, e.g. https://127.0.0.1:8443 */
  baseUrl: string;
  store: Store;
  log: Logger;
  tls: TlsIdentity;
  network: NetworkView;
  /** Part-specific settings from environment/config file (already validated by the part). */
  settings: Record<string, string | undefined>;
  /** Optional data directory for files a part keeps besides its store (keys); undefined = memory only. */
  dataDir?: string;
  /**
   * The network's certificate status check (revocation, participant status), deny on error; for
   * doors on public paths that authenticate a certificate themselves (token endpoints).
   * Undefined where the part runs without a trust framework (the trust part itself, tests).
   */
  peerStatus?: (peer: Peer) => Promise<string | null>;
  /** The part's long-lived keys, kept in its store sealed under the key-encryption key. */
  keys: PartKeys;
  /** Prometheus registry served at /metrics (labelled with part and instance); parts add their figures. */
  metrics?: Registry;
  /** Adds a check /health/ready runs (besides the database): a part it cannot work without. */
  requireForReadiness?(check: ReadinessCheck): void;
}

export interface PartDefinition {
  /** Manifest service name: trust, directory, prs, nvi, consent, identity, citizen-identity, transparency, portal, node. */
  name: string;
  /** SQL schema; each part touches only its own. */
  schema: string;
  migrations: Migration[];
  /** Paths reachable without a client certificate (prefix match), e.g. ['/.well-known/', '/agreements']. */
  publicPaths?: string[];
  /** FHIR resource types this part serves, for its CapabilityStatement at /metadata. */
  capability?: CapabilityInput;
  /** Doors with a per-caller rate limit (logins, tokens, consent changes, operator actions). */
  rateLimits?: readonly RateLimitedDoor[];
  /** OpenAPI 3.1 document of the part's non-FHIR API, served at /openapi.json. */
  openApi?: (baseUrl: string, tokenEndpoint: string) => Record<string, unknown> | Promise<Record<string, unknown>>;
  /** Registers the part's routes. Runs after the kit's hooks are installed. */
  register(app: FastifyInstance, ctx: PartContext): Promise<void>;
  /** Called on shutdown before the store closes (stop timers, flush outboxes). */
  stop?(): Promise<void>;
}

/** One search parameter a resource's search serves; the search code checks queries against the same list. */
export interface SearchParamDeclaration {
  name: string;
  type: 'token' | 'string' | 'date' | 'reference' | 'uri' | 'number' | 'special';
  documentation?: string;
}

export type ResourceInteraction = 'read' | 'vread' | 'update' | 'create' | 'delete' | 'search-type' | 'history-type' | 'history-instance';

export interface CapabilityInput {
  description: string;
  resources: Array<{
    type: string;
    interactions: ResourceInteraction[];
    searchParams?: SearchParamDeclaration[];
    /** `_include` / `_revinclude` values served, e.g. Organization:endpoint. */
    searchInclude?: string[];
    searchRevInclude?: string[];
    profile?: string;
    documentation?: string;
  }>;
  /** FHIR operations: each with the OperationDefinition the kit serves at [base]/OperationDefinition/<id>. */
  operations?: Array<{ name: string; definition: import('@medplum/fhirtypes').OperationDefinition }>;
  systemInteractions?: Array<'transaction' | 'batch' | 'search-system' | 'history-system'>;
  /** Where the non-FHIR part of this API is described (OpenAPI 3.1), relative to the base. */
  openApiPath?: string;
}
