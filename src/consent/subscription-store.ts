import { randomUUID } from 'node:crypto';
import type { Subscription } from '@medplum/fhirtypes';
import { badRequest, forbidden, unprocessable } from '../kit/fhir/outcome.ts';
import { isValidBsn } from '../kit/identifiers/bsn.ts';
import { SYSTEM } from '../kit/identifiers/systems.ts';
import type { Queryable, Store } from '../kit/store/store.ts';
import { CONSENT_URI } from './uris.ts';

// Subscriptions (FHIR R4 with the Subscriptions backport, rest-hook): a data holder subscribes,
// per patient, to changes of that patient's consents. Accepted filters:
//   criteria = consent topic + _criteria extension "Consent?patient:identifier=<bsn system>|<bsn>"
//   criteria = "Consent?patient:identifier=…" | "Consent?patient=<bsn>"
//   criteria = Mitz style "Consent?_query=otv&patientid=<bsn>&providerid=<ura>&providertype=<type>"
// Notifications carry no BSN (id-only): the holder knows which patient each subscription is for.

export interface StoredSubscription {
  id: string;
  subscriberUra: string;
  bsn: string;
  endpoint: string;
  status: string;
  resource: Subscription;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function filterOf(s: Record<string, unknown>): string {
  if (typeof s.criteria !== 'string') throw unprocessable('criteria must be a string');
  if (s.criteria === CONSENT_URI.consentTopic) {
    const meta = s._criteria;
    const ext = isObject(meta) && Array.isArray(meta.extension) ? meta.extension : [];
    const filter = ext.find((e) => isObject(e) && e.url === CONSENT_URI.backportFilterCriteria)?.valueString;
    if (typeof filter !== 'string' || !filter) throw unprocessable('a topic subscription needs a backport-filter-criteria naming the patient');
    return filter;
  }
  return s.criteria;
}

/** Extracts the patient and checks the shape; the subscriber is the verified peer. */
export function parseSubscription(input: unknown, subscriberUra: string): { bsn: string; endpoint: string } {
  if (!isObject(input) || input.resourceType !== 'Subscription') {
    throw badRequest('body must be a FHIR Subscription resource');
  }
  const s = input;
  const filter = filterOf(s);
  const m = /^Consent\?(.*)$/.exec(filter);
  if (!m) throw unprocessable(`criteria must select Consent (got "${filter.slice(0, 80)}")`);
  const params = new URLSearchParams(m[1]);
  let bsn = params.get('patientid') ?? params.get('patient') ?? '';
  const ident = params.get('patient:identifier');
  if (ident) {
    const [system, value] = ident.includes('|') ? ident.split('|', 2) : [SYSTEM.bsn, ident];
    if (system !== SYSTEM.bsn) throw unprocessable(`patient:identifier must use ${SYSTEM.bsn}`);
    bsn = value;
  }
  if (!isValidBsn(bsn)) throw unprocessable('criteria must name one patient by a valid BSN');
  const provider = params.get('providerid');
  if (provider && provider !== subscriberUra) throw forbidden('a holder subscribes for its own patients only (providerid ≠ your URA)');
  const channel: unknown = s.channel;
  if (!isObject(channel) || channel.type !== 'rest-hook') throw unprocessable('channel.type must be rest-hook');
  const endpoint = typeof channel.endpoint === 'string' ? channel.endpoint : '';
  if (!/^https:\/\/[^\s]+$/.test(endpoint)) throw unprocessable('channel.endpoint must be an https URL');
  if (channel.payload !== undefined && (typeof channel.payload !== 'string' || !/^application\/(fhir\+)?json/.test(channel.payload))) {
    throw unprocessable('channel.payload must be application/fhir+json');
  }
  return { bsn, endpoint };
}

export class SubscriptionStore {
  constructor(private readonly store: Store) {}

  async create(input: unknown, subscriberUra: string): Promise<StoredSubscription> {
    const { bsn, endpoint } = parseSubscription(input, subscriberUra);
    const id = randomUUID();
    const resource: Subscription = { ...(input as Subscription), id, status: 'active' };
    await this.store.query(
      'INSERT INTO subscription (id, subscriber_ura, bsn, endpoint, status, resource) VALUES ($1, $2, $3, $4, $5, $6)',
      [id, subscriberUra, bsn, endpoint, 'active', JSON.stringify(resource)],
    );
    return { id, subscriberUra, bsn, endpoint, status: 'active', resource };
  }

  async read(id: string): Promise<StoredSubscription | null> {
    const rows = await this.store.query<{ id: string; subscriber_ura: string; bsn: string; endpoint: string; status: string; resource: Subscription | string }>(
      'SELECT id, subscriber_ura, bsn, endpoint, status, resource FROM subscription WHERE id = $1',
      [id],
    );
    const r = rows[0];
    if (!r) return null;
    const resource = typeof r.resource === 'string' ? JSON.parse(r.resource) : r.resource;
    return { id: r.id, subscriberUra: r.subscriber_ura, bsn: r.bsn, endpoint: r.endpoint, status: r.status, resource: { ...resource, status: r.status } };
  }

  /** Switches a subscription off (the subscriber no longer wants it). */
  async off(id: string): Promise<void> {
    await this.store.query("UPDATE subscription SET status = 'off' WHERE id = $1", [id]);
  }
}

/** Queues one notification per live subscription of the patient (inside the consent write). */
export async function enqueueNotifications(tx: Queryable, bsn: string, consentId: string, version: number): Promise<number> {
  const subs = await tx.query<{ id: string; events_since_start: string | number }>(
    "UPDATE subscription SET events_since_start = events_since_start + 1 WHERE bsn = $1 AND status <> 'off' RETURNING id, events_since_start",
    [bsn],
  );
  for (const s of subs) {
    await tx.query(
      'INSERT INTO notification_outbox (subscription_id, event_number, consent_id, consent_version) VALUES ($1, $2, $3, $4)',
      [s.id, Number(s.events_since_start), consentId, version],
    );
  }
  return subs.length;
}
