import type { AuditEvent } from '@medplum/fhirtypes';
import canonicalize from 'canonicalize';
import { badRequest, unprocessable } from '../../kit/fhir/outcome.ts';
import type { Peer } from '../../kit/part.ts';
import { containsBsn, summarizeAuditEvent, toTransparencyEvent } from '../event.ts';
import type { LogItem } from './log-store.ts';

// Checks an AuditEvent a node sends before it becomes a leaf: it must name the patient by the
// transparency pseudonym only (a local reference is dropped: least data) and carry no BSN in
// the places where one could slip in. What is accepted is stored and hashed in RFC 8785 form.

const ID = /^[A-Za-z0-9\-.]{1,64}$/;

export function acceptIncomingEvent(body: unknown, peer: Peer | undefined): LogItem {
  const event = body as AuditEvent | undefined;
  if (!event || typeof event !== 'object' || event.resourceType !== 'AuditEvent') throw badRequest('expected an AuditEvent');
  if (typeof event.id !== 'string' || !ID.test(event.id)) throw badRequest('AuditEvent.id is required (de-duplication key)', ['AuditEvent.id']);
  if (typeof event.recorded !== 'string' || Number.isNaN(Date.parse(event.recorded))) {
    throw badRequest('AuditEvent.recorded must be a dateTime', ['AuditEvent.recorded']);
  }
  const copy = toTransparencyEvent(event);
  const s = summarizeAuditEvent(copy);
  if (!s.pseudonym) throw unprocessable('the patient entity must carry the transparency pseudonym');
  const queries = (copy.entity ?? []).map((e) => (e.query ? Buffer.from(e.query, 'base64').toString('utf8') : ''));
  for (const text of [s.pseudonym, s.emergencyReason ?? '', copy.outcomeDesc ?? '', ...queries]) {
    if (containsBsn(text)) throw unprocessable('the event contains what looks like a BSN; it is not stored');
  }
  if (!s.organizationUra) throw unprocessable('the event must name the organisation (performer agent with URA)');
  return {
    eventId: event.id,
    body: canonicalize(copy)!,
    pseudonym: s.pseudonym,
    sourceUra: peer?.ura || peer?.commonName || undefined,
    recorded: event.recorded,
  };
}
