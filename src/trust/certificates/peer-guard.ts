import type { PartClient } from '../../kit/http/client.ts';
import type { Peer } from '../../kit/part.ts';
import { remoteJwks } from '../auth/remote-jwks.ts';
import { refusalFor, type StatusList, verifyStatusList } from './status-list.ts';

// For the kit's `peerGuard` option: refuses a revoked certificate or a participant that is not
// admitted, from the trust framework's signed status list. The list is used for at most
// maxAgeSeconds (default 30, so a change reaches every part within a minute); it is renewed in
// the background from half that age, and when no list young enough can be had the guard throws,
// which the kit turns into a refusal (deny on error).

export interface PeerGuardOptions {
  trustUrl: string;
  client: PartClient;
  maxAgeSeconds?: number;
}

export type PeerGuard = ((peer: Peer) => Promise<string | null>) & { refresh(): Promise<void> };

export function createPeerGuard(options: PeerGuardOptions): PeerGuard {
  const maxAgeMs = (options.maxAgeSeconds ?? 30) * 1000;
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
    else if (age >= maxAgeMs / 2) void fetchList().catch(() => {});
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
