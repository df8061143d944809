import { createHash, X509Certificate } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import { readCertificateIdentity } from '../pki/certificates.ts';
import type { Peer } from '../part.ts';

// Reading the identity out of a certificate costs an ASN.1 parse; peers reconnect with the
// same certificate all the time, so parsed identities are cached by fingerprint.

const cache = new Map<string, Peer | null>();
const MAX = 10_000;

export function thumbprintOf(der: Buffer): string {
  return createHash('sha256').update(der).digest('base64url');
}

// A TLS connection's peer certificate never changes, and keep-alive connections carry many
// requests: remember the peer per socket so the hot path does no certificate work at all.
const perSocket = new WeakMap<TLSSocket, Peer | null>();

/** The verified peer of a TLS socket, or null when it presented no valid network certificate. */
export function peerOf(socket: TLSSocket): Peer | null {
  const known = perSocket.get(socket);
  if (known !== undefined) return known;
  let peer: Peer | null = null;
  if (socket.authorized) {
    const raw = socket.getPeerCertificate(false);
    if (raw?.raw) peer = peerFromDer(raw.raw);
  }
  perSocket.set(socket, peer);
  return peer;
}

export function peerFromDer(der: Buffer): Peer | null {
  const key = thumbprintOf(der);
  const hit = cache.get(key);
  if (hit !== undefined) return hit;
  let peer: Peer | null = null;
  try {
    const id = readCertificateIdentity(der);
    peer = {
      ura: id.ura,
      kvk: id.kvk,
      systemNumber: id.systemNumber,
      agb: id.agb,
      commonName: id.commonName,
      thumbprint: key,
      serialNumber: id.serialNumber,
      certificate: new X509Certificate(der),
      der,
    };
  } catch {
    peer = null;
  }
  if (cache.size >= MAX) cache.clear();
  cache.set(key, peer);
  return peer;
}
