import type { AuditEvent } from '@medplum/fhirtypes';
import canonicalize from 'canonicalize';
import { badRequest, forbidden, unprocessable } from '../../kit/fhir/outcome.ts';
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
// Who may log: the event's organisation must be the one the caller acts for. That is the URA of the
// access token (`actingUra`: the trust AS issues it only for the certificate's own URA or for an
// organisation the certificate's vendor hosts), else the URA of the mTLS certificate itself. A
// vendor certificate without a token names no organisation, so it cannot log.
//
// Token freshness: the PRS token must have been valid either when the access was recorded (the
// node fetched it at access time) or when the event arrives here (the node's outbox fetched it at
// delivery, so an access made while the PRS or this part was down still reaches the citizen).
// - Valid at `recorded`: that pins `recorded` inside the token's own life (iat − 1 min .. exp, at
//   most 6 min). Delivery may come later, but only for a bounded grace counted from the token's
//   exp, never from the claimed `recorded`: backdating an event cannot stretch an old token's life.
// - Valid at arrival: `recorded` must lie within the delivery grace before now (and not in the
//   future). The trade-off: the token no longer pins `recorded`, so a participant could backdate
//   an event by up to the grace (24 h by default, 7 days at most). It gains little by that: the
//   event is still in its own name, and the log keeps its own arrival time (received_at) beside
//   the claimed one, which bounds any backdating for whoever reads the log.

const ID = /^[A-Za-z0-9\-.]{1,64}$/;
const CLOCK_SKEW_MS = 60_000;
/** Delivery grace after the PRS token's exp (the outbox's legitimate delay); configurable up to the cap. */
export const DEFAULT_MAX_DELIVERY_DELAY_MS = 24 * 3600_000;
export const MAX_DELIVERY_DELAY_CAP_MS = 7 * 24 * 3600_000;

/** Token → stable pseudonyms (current first), valid at `atMs`; throws PseudonymTokenRefused. */
export type PseudonymResolver = (token: string, atMs: number) => Promise<string[]>;

export interface ReceiveOptions {
  resolve: PseudonymResolver;
  /** The organisation the caller's verified access token was issued for (its `sub`). */
  actingUra?: string;
  now?: number;
  /** Grace after the PRS token's exp (default 24 h, at most 7 days). */
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
  const graceMs = Math.min(options.maxDelayMs ?? DEFAULT_MAX_DELIVERY_DELAY_MS, MAX_DELIVERY_DELAY_CAP_MS);

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
  if (!s.organizationUra) throw unprocessable('the event must name the organisation (performer agent with URA)');
  const acting = options.actingUra || peer?.ura;
  if (!acting) throw forbidden('the caller acts for no organisation (no access token naming one, and no URA in its certificate)');
  if (s.organizationUra !== acting) throw forbidden(`the event is in the name of ${s.organizationUra}, but the caller acts for ${acting}`);
  const pseudonym = await resolveAtRecordedOrArrival(options.resolve, s.pseudonymToken, recordedMs, now, graceMs);
  const patient = copy.entity?.find((e) => e.role?.code === '1');
  if (!patient?.what || typeof patient.what !== 'object') throw unprocessable('the event has no patient entity');
  patient.what.identifier = { system: SYSTEM.transparencyPseudonym, value: pseudonym };

  const queries = (copy.entity ?? []).map((e) => (typeof e.query === 'string' ? Buffer.from(e.query, 'base64').toString('utf8') : ''));
  const descriptions = (copy.entity ?? []).flatMap((e) => [e.description ?? '', ...(e.detail ?? []).map((d) => d.valueString ?? '')]);
  for (const text of [s.emergencyReason ?? '', copy.outcomeDesc ?? '', ...queries, ...descriptions]) {
    if (containsBsn(text)) throw unprocessable('the event contains what looks like a BSN; it is not stored');
  }
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

/** The stable pseudonym of a token valid at `recorded` (within the grace after its exp) or at arrival. */
async function resolveAtRecordedOrArrival(resolve: PseudonymResolver, token: string, recordedMs: number, now: number, graceMs: number): Promise<string> {
  const graceStart = now - graceMs;
  let atRecorded: PseudonymTokenRefused;
  try {
    const [pseudonym] = await resolve(token, recordedMs);
    // Valid at `recorded`, so exp > recorded. When the grace began after `recorded`, the token must
    // also have been valid when it began (exp > now − grace); its iat lies before `recorded`, so
    // this second look tests exp alone.
    if (graceStart > recordedMs) await resolve(token, graceStart);
    return pseudonym;
  } catch (err) {
    if (!(err instanceof PseudonymTokenRefused)) throw err;
    atRecorded = err;
  }
  // A token fetched at delivery: valid now, for an event recorded within the grace.
  if (recordedMs < graceStart) {
    throw unprocessable(`patient pseudonym token refused (${atRecorded.message}), and the event was recorded more than ${Math.round(graceMs / 60_000)} min ago: too late to deliver`);
  }
  try {
    const [pseudonym] = await resolve(token, now);
    return pseudonym;
  } catch (err) {
    if (err instanceof PseudonymTokenRefused) throw new PseudonymTokenRefused(`patient pseudonym token refused: valid neither when the event was recorded (${atRecorded.message}) nor now (${err.message})`);
    throw err;
  }
}
