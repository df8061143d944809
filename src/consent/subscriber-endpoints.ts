import type { Bundle, Endpoint, Organization } from '@medplum/fhirtypes';
import { referencedId } from '../directory/contract.ts';
import { HttpError, unprocessable } from '../kit/fhir/outcome.ts';
import { PartClient } from '../kit/http/client.ts';
import { peerFromDer } from '../kit/http/peer.ts';
import { SYSTEM } from '../kit/identifiers/systems.ts';
import type { PartContext } from '../kit/part.ts';
import { pemToDer } from '../kit/pki/certificates.ts';
import { TrustTokenProvider } from '../trust/contract.ts';

// The consent part POSTs notifications with its own client certificate, so a subscription may
// only point at the subscriber's own node: the callback's origin must be the origin of one of
// the subscriber's active Endpoints in the national directory. Anything else would let one
// organisation make the consent part call arbitrary hosts (SSRF) or collect notifications
// under another organisation's name.

/** The https origins (scheme://host:port) where care provider `ura` receives calls. */
export type SubscriberOrigins = (ura: string) => Promise<string[]>;

const DIRECTORY_READ_SCOPE = 'directory:read';
const MAX_CACHED = 10_000;

/** Origins from the directory part (ITI-90: Organization by URA, then its Endpoints), cached briefly. */
export function directorySubscriberOrigins(options: { client: PartClient; directoryUrl: () => string; ttlMs?: number; deadlineMs?: number }): SubscriberOrigins {
  const cache = new Map<string, { origins: string[]; until: number }>();
  const ttlMs = options.ttlMs ?? 60_000;
  const get = async <T>(url: string): Promise<T | null> => {
    const r = await options.client
      .call<T>(url, { scope: DIRECTORY_READ_SCOPE, resource: options.directoryUrl(), retries: 0, deadlineMs: options.deadlineMs ?? 3000 })
      .catch(() => {
        throw new HttpError(503, 'transient', 'the directory cannot be reached; the callback endpoint cannot be checked now');
      });
    if (r.status === 404 || r.status === 410) return null;
    if (r.status !== 200) throw new HttpError(503, 'transient', `the directory answered ${r.status}; the callback endpoint cannot be checked now`);
    return r.body;
  };
  return async (ura) => {
    const hit = cache.get(ura);
    if (hit && hit.until > Date.now()) return hit.origins;
    const base = options.directoryUrl();
    const orgs = await get<Bundle>(`${base}/Organization?identifier=${encodeURIComponent(`${SYSTEM.ura}|${ura}`)}`);
    const ids = new Set<string>();
    for (const e of orgs?.entry ?? []) {
      const org = e.resource as Organization | undefined;
      if (org?.resourceType !== 'Organization') continue;
      for (const ref of org.endpoint ?? []) {
        const id = referencedId(ref, 'Endpoint');
        if (id) ids.add(id);
      }
    }
    const origins = new Set<string>();
    for (const id of ids) {
      const ep = await get<Endpoint>(`${base}/Endpoint/${encodeURIComponent(id)}`);
      const origin = ep?.status === 'active' ? httpsOrigin(ep.address) : null;
      if (origin) origins.add(origin);
    }
    if (cache.size >= MAX_CACHED) cache.clear();
    cache.set(ura, { origins: [...origins], until: Date.now() + ttlMs });
    return [...origins];
  };
}

/**
 * The part's default: ask the network's directory, with a directory:read token from the trust part
 * acting for the URA in our own certificate. Without a directory every subscription is refused (503):
 * deny by default rather than call an unchecked address.
 */
export function networkSubscriberOrigins(ctx: PartContext): { origins: SubscriberOrigins; close: () => Promise<void> } {
  if (!ctx.network.has('directory')) {
    return {
      origins: async () => {
        throw new HttpError(503, 'transient', 'no directory in the network to check the callback endpoint against');
      },
      close: async () => {},
    };
  }
  const plain = new PartClient({ tls: ctx.tls, maxRetries: 0 });
  const ura = ownUra(ctx);
  const tokens =
    ctx.network.has('trust') && ura
      ? new TrustTokenProvider({ tls: ctx.tls, ura, tokenEndpoint: `${ctx.network.url('trust')}/oauth/token`, client: plain })
      : undefined;
  const client = tokens ? new PartClient({ tls: ctx.tls, tokens, maxRetries: 0 }) : plain;
  return {
    origins: directorySubscriberOrigins({ client, directoryUrl: () => ctx.network.url('directory') }),
    close: async () => {
      if (client !== plain) await client.close();
      await plain.close();
    },
  };
}

function ownUra(ctx: PartContext): string | undefined {
  try {
    return ctx.tls.cert ? (peerFromDer(pemToDer(ctx.tls.cert))?.ura ?? undefined) : undefined;
  } catch {
    return undefined;
  }
}

function httpsOrigin(address: unknown): string | null {
  if (typeof address !== 'string') return null;
  try {
    const url = new URL(address);
    return url.protocol === 'https:' ? url.origin : null;
  } catch {
    return null;
  }
}

/** 422 unless the callback is on one of the subscriber's own origins (userinfo is never allowed). */
export async function requireOwnEndpoint(origins: SubscriberOrigins, ura: string, endpoint: string): Promise<void> {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw unprocessable('channel.endpoint must be an https URL');
  }
  if (url.username || url.password) throw unprocessable('channel.endpoint must not carry credentials');
  const own = await origins(ura);
  if (!own.includes(url.origin)) {
    throw unprocessable(`channel.endpoint must be on your own node as listed in the national directory (${own.length ? own.join(', ') : 'no active endpoints listed for your URA'})`);
  }
}
