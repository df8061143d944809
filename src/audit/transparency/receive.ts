import type { AuditEvent } from '@medplum/fhirtypes';
import canonicalize from 'canonicalize';
import { badRequest, unprocessable } from '../../kit/fhir/outcome.ts';
import { SYSTEM } from '../../kit/identifiers/systems.ts';
import type { Peer } from '../../kit/part.ts';
import { containsBsn, summarizeAuditEvent, toTransparencyEvent } from '../event.ts';
import { AUDIT_SYSTEM } from '../uris.ts';
import type { LogItem } from './log-store.ts';
import { PseudonymTokenRefused } from './stable-pseudonym.ts';

// Checks an AuditEvent a node sends before it becomes a leaf. The node names the patient by a PRS
// token addressed to this part; the token is opened here and replaced by the part's stable
// pseudonym, so the stored leaf never holds the token (a local reference is dropped: least data).
// No BSN may sit where one could slip in. What is accepted is stored and hashed in RFC 8785 form.
//
// Token freshness is judged at the event's `recorded` time (the node fetched the token when the
// access happened), and `recorded` itself must lie between now − maxDelay and now + skew: a node
// whose outbox could not deliver for a while can still deliver, without tokens living longer.

const ID = /^[A-Za-z0-9\-.]{1,64}$/;
const CLOCK_SKEW_MS = 60_000;
export const DEFAULT_MAX_DELIVERY_DELAY_MS = 7 * 24 * 3600_000;

/** Token → stable pseudonyms (current first), valid at `atMs`; throws PseudonymTokenRefused. */
export type PseudonymResolver = (token: string, atMs: number) => Promise<string[]>;

export interface ReceiveOptions {
  resolve: PseudonymResolver;
  now?: number;
  maxDelayMs?: number;
}

export async function acceptIncomingEvent(body: unknown, peer: Peer | undefined, options: ReceiveOptions): Promise<LogItem> {
  const event = body as AuditEvent | undefined;
  if (!event || typeof event !== 'object' || event.resourceType !== 'AuditEvent') throw badRequest('expected an AuditEvent');
  if (typeof event.id !== 'string' || !ID.test(event.id)) throw badRequest('AuditEvent.id is required (de-duplication key)', ['AuditEvent.id']);
  const recordedMs = typeof event.recorded === 'string' ? Date.parse(event.recorded) : Number.NaN;
  if (Number.isNaN(recordedMs)) throw badRequest('AuditEvent.recorded must be a dateTime', ['AuditEvent.recorded']);
  const now = options.now ?? Date.now();
  if (recordedMs > now + CLOCK_SKEW_MS) throw unprocessable('AuditEvent.recorded lies in the future');
  if (recordedMs < now - (options.maxDelayMs ?? DEFAULT_MAX_DELIVERY_DELAY_MS)) throw unprocessable('AuditEvent.recorded is older than this log accepts');

  for (const key of ['entity', 'agent', 'extension', 'purposeOfEvent', 'subtype'] as const) {
    const v = event[key];
    if (v !== undefined && (!Array.isArray(v) || v.some((x) => typeof x !== 'object' || x === null || Array.isArray(x)))) {
      throw badRequest(`AuditEvent.${key} must be an array of objects`, [`AuditEvent.${key}`]);
    }
  }
  let copy: AuditEvent;
  let s: ReturnType<typeof summarizeAuditEvent>;
  try {
    copy = toTransparencyEvent(event);
    s = summarizeAuditEvent(copy);
  } catch (err) {
    // A body that is JSON but not shaped like an AuditEvent deeper down.
    if (err instanceof TypeError) throw badRequest('malformed AuditEvent');
    throw err;
  }
  if (s.pseudonym !== undefined) throw unprocessable('send the patient as a PRS token for the transparency part, not as a pseudonym');
  if (!s.pseudonymToken) throw unprocessable('the patient entity must carry a PRS pseudonym token for the transparency part');
  let pseudonym: string;
  try {
    [pseudonym] = await options.resolve(s.pseudonymToken, recordedMs);
  } catch (err) {
    if (err instanceof PseudonymTokenRefused) throw unprocessable(`patient pseudonym token refused: ${err.message}`);
    throw err;
  }
  const patient = copy.entity?.find((e) => e.role?.code === '1');
  if (!patient?.what || typeof patient.what !== 'object') throw unprocessable('the event has no patient entity');
  patient.what.identifier = { system: SYSTEM.transparencyPseudonym, value: pseudonym };

  const queries = (copy.entity ?? []).map((e) => (typeof e.query === 'string' ? Buffer.from(e.query, 'base64').toString('utf8') : ''));
  for (const text of [s.emergencyReason ?? '', copy.outcomeDesc ?? '', ...queries]) {
    if (containsBsn(text)) throw unprocessable('the event contains what looks like a BSN; it is not stored');
  }
  if (!s.organizationUra) throw unprocessable('the event must name the organisation (performer agent with URA)');
  const text = canonicalize(copy)!;
  // The token is single-use transit data: refuse events that repeat it anywhere else.
  if (text.includes(s.pseudonymToken) || text.includes(AUDIT_SYSTEM.transparencyPseudonymToken)) {
    throw unprocessable('the event repeats the pseudonym token outside the patient entity');
  }
  return {
    eventId: event.id,
    body: text,
    pseudonym,
    sourceUra: peer?.ura || peer?.commonName || undefined,
    recorded: event.recorded,
  };
}
