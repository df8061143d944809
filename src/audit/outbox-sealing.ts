import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { AuditEvent } from '@medplum/fhirtypes';
import { isValidBsn } from '../kit/identifiers/bsn.ts';
import { AUDIT_SYSTEM } from './uris.ts';

// What the outbox needs to fetch the PRS token at delivery time rather than at access time: the
// patient's BSN, sealed with the node's outbox key (AES-256-GCM, node:crypto). It lives only in the
// outbox row, never in the hash-chained log, and goes when the row is delivered. The event id is
// the associated data, so a sealed BSN copied onto another row does not open there.

const VERSION = 'v1';

export interface OutboxSealer {
  seal(bsn: string, eventId: string): string;
  /** Throws when the value was not sealed with this key for this event. */
  open(sealed: string, eventId: string): string;
}

export function outboxSealer(key: Uint8Array): OutboxSealer {
  if (key.length !== 32) throw new Error('the outbox key must be 32 bytes (AES-256)');
  const k = Buffer.from(key);
  return {
    seal(bsn, eventId) {
      if (!isValidBsn(bsn)) throw new Error('refusing to seal something that is not a valid BSN');
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', k, iv);
      cipher.setAAD(Buffer.from(eventId, 'utf8'));
      const ct = Buffer.concat([cipher.update(bsn, 'utf8'), cipher.final()]);
      return [VERSION, iv, ct, cipher.getAuthTag()].map((p) => (typeof p === 'string' ? p : p.toString('base64url'))).join('.');
    },
    open(sealed, eventId) {
      const [version, iv, ct, tag] = sealed.split('.');
      if (version !== VERSION || !iv || !ct || !tag) throw new Error('not a sealed outbox BSN');
      const decipher = createDecipheriv('aes-256-gcm', k, Buffer.from(iv, 'base64url'));
      decipher.setAAD(Buffer.from(eventId, 'utf8'));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([decipher.update(Buffer.from(ct, 'base64url')), decipher.final()]).toString('utf8');
    },
  };
}

/** A fresh random outbox key (keep it as a node secret: queued rows cannot be delivered without it). */
export function generateOutboxKey(): Uint8Array {
  return randomBytes(32);
}

/** A copy of the event whose patient entity names the patient by `token` (a PRS token for the transparency part). */
export function withPseudonymToken(event: AuditEvent, token: string): AuditEvent {
  const copy = JSON.parse(JSON.stringify(event)) as AuditEvent;
  const patient = copy.entity?.find((e) => e.role?.code === '1');
  if (!patient) throw new Error('the event has no patient entity to carry the pseudonym token');
  patient.what = { ...patient.what, identifier: { system: AUDIT_SYSTEM.transparencyPseudonymToken, value: token } };
  return copy;
}
