import type { Peer } from '../part.ts';

// The one check of a certificate's standing that every part makes, whatever door it comes in
// by: the kit's mutual-TLS hook, the token endpoints of the trust part and of every node (public
// paths, which authenticate the certificate themselves), and the trust register. A revoked
// certificate is refused even when its participant is admitted; a participant or vendor that is
// not admitted is refused whatever its certificate. Deny on error: a status that cannot be
// known is a refusal.

/** What the trust framework's signed status list says (trust/certificates/status-list.ts). */
export interface CertificateStatusList {
  participants: Record<string, string>;
  vendors: Record<string, string>;
  revoked: readonly string[];
}

/** A source of the current status: returns the reason to refuse this peer, or null. */
export type PeerStatusCheck = (peer: Peer) => Promise<string | null>;

export function isRevoked(list: Pick<CertificateStatusList, 'revoked'>, thumbprint: string): boolean {
  return list.revoked.includes(thumbprint);
}

/** Why this peer must be refused according to the list, or null. */
export function certificateRefusal(list: CertificateStatusList, peer: Pick<Peer, 'ura' | 'kvk' | 'thumbprint'>): string | null {
  if (isRevoked(list, peer.thumbprint)) return 'certificate revoked';
  if (peer.ura) {
    const status = list.participants[peer.ura];
    return status === 'admitted' ? null : `participant ${peer.ura} is ${status ?? 'not admitted'}`;
  }
  if (peer.kvk) {
    const status = list.vendors[peer.kvk];
    return status === 'admitted' ? null : `vendor ${peer.kvk} is ${status ?? 'not admitted'}`;
  }
  return 'certificate names no participant';
}

/** Runs a status check, turning a failure to know into a refusal (deny on error). */
export async function peerRefusal(check: PeerStatusCheck, peer: Peer, onError?: (err: unknown) => void): Promise<string | null> {
  try {
    return await check(peer);
  } catch (err) {
    onError?.(err);
    return 'participant status could not be checked';
  }
}
