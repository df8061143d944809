import type { PartClient } from '../../kit/http/client.ts';
import type { Peer } from '../../kit/part.ts';
import { remoteJwks } from '../auth/remote-jwks.ts';
import { refusalFor, type StatusList, verifyStatusList } from './status-list.ts';

// For the kit's `peerGuard` option: refuses a revoked certificate or a participant that is not
// admitted, from the trust framework's signed status list. The list is used for at most
// maxAgeSeconds (default 30); it is renewed in the background once it is renewSeconds old (default
// 5, so an operator's suspension reaches every instance of every part within seconds of traffic),
// and when no list young enough can be had the guard throws, which the kit turns into a refusal
// (deny on error). A short poll, not LISTEN/NOTIFY: the list is the trust part's data, which other
// parts may only read over its HTTP interface, and it is one small signed document (the trust
// part serves it from a one-second cache), so polling every few seconds costs little.

export interface PeerGuardOptions {
  trustUrl: string;
  client: PartClient;
  maxAgeSeconds?: number;
  /** Age after which the list is renewed in the background (default 5 s, at most half maxAgeSeconds). */
  renewSeconds?: number;
}

export type PeerGuard = ((peer: Peer) => Promise<string | null>) & { refresh(): Promise<void> };

export function createPeerGuard(options: PeerGuardOptions): PeerGuard {
  const maxAgeMs = (options.maxAgeSeconds ?? 30) * 1000;
  const renewMs = Math.min((options.renewSeconds ?? 5) * 1000, maxAgeMs / 2);
  const jwks = remoteJwks(`${options.trustUrl}/.well-known/jwks.json`, options.client);
  let current: { list: StatusList; fetchedAt: number } | null = null;
  let pending: Promise<void> | null = null;

  const fetchList = () => {
    pending ??= (async () => {
      const r = await options.client.call(`${options.trustUrl}/status-list`, { headers: { accept: 'application/jose' }, deadlineMs: 5000 });
      if (r.status !== 200) throw new Error(`status list unavailable (${r.status})`);
      const list = await verifyStatusList(r.text.trim(), jwks, options.trustUrl);
      current = { list, fetchedAt: Date.now() };
    })().finally(() => {
      pending = null;
    });
    return pending;
  };

  const guard = (async (peer: Peer) => {
    const age = current ? Date.now() - current.fetchedAt : Number.POSITIVE_INFINITY;
    if (age >= maxAgeMs) await fetchList();
    else if (age >= renewMs) void fetchList().catch(() => {});
    return refusalFor(current!.list, peer);
  }) as PeerGuard;
  // An explicit refresh must see changes made before it was asked: wait out a fetch already
  // under way (it may have started before the change) and fetch again.
  guard.refresh = async () => {
    if (pending) await pending.catch(() => {});
    await fetchList();
  };
  return guard;
}
