import { randomUUID } from 'node:crypto';
import type { Consent } from '@medplum/fhirtypes';
import { conflict, notFound, preconditionFailed, unprocessable } from '../kit/fhir/outcome.ts';
import type { Queryable, Store } from '../kit/store/store.ts';
import type { ConsentMode } from '../trust/contract.ts';
import { decide } from './decide.ts';
import { type ParsedConsent, parseConsent } from './fhir.ts';
import { type ClosedAnswer, type ClosedQuestion, type ConsentRecord, PURPOSE_RESEARCH, PURPOSE_TREAT } from './model.ts';
import { enqueueNotifications } from './subscription-store.ts';
import { CONSENT_URI } from './uris.ts';

// The registry over its store: every write appends a version to consent_history, replaces the
// row in consent_current and queues notifications for the patient's subscribers, all in one
// transaction, so a change and its notifications are never separated.

export interface RecordedBy {
  kind: 'citizen' | 'provider' | 'system';
  /** URA of the organisation recording on the citizen's behalf (provider). */
  ura?: string;
  /** Professional (UZI/Dezi number) who recorded it, when known. */
  professional?: string;
}

export interface StoredConsent {
  id: string;
  version: number;
  bsn: string;
  resource: Consent;
  recordedAt: Date;
  recordedBy: RecordedBy;
}

/** Called with the parsed choice before it is written: throw (e.g. 403) to refuse. */
export type WriteGuard = (choice: ParsedConsent, previous: StoredConsent | null) => void;

type CurrentRow = {
  id: string;
  version: number;
  bsn: string;
  status: string;
  provision: string;
  holder_uras: string[];
  holder_types: string[];
  requester_uras: string[];
  requester_types: string[];
  data_categories: string[];
  period_start: Date | string | null;
  period_end: Date | string | null;
  purpose?: string;
};

type HistoryRow = {
  id: string;
  version: number;
  bsn: string;
  resource: Consent | string;
  recorded_at: Date | string;
  recorded_by_kind: RecordedBy['kind'];
  recorded_by_ura: string | null;
  recorded_by_professional: string | null;
};

const asDate = (v: Date | string | null): Date | undefined => (v === null ? undefined : v instanceof Date ? v : new Date(v));

export function recordFromRow(r: CurrentRow): ConsentRecord {
  return {
    id: r.id,
    version: r.version,
    bsn: r.bsn,
    status: r.status as ConsentRecord['status'],
    provision: r.provision as ConsentRecord['provision'],
    holderUras: r.holder_uras,
    holderTypes: r.holder_types,
    requesterUras: r.requester_uras,
    requesterTypes: r.requester_types,
    dataCategories: r.data_categories,
    periodStart: asDate(r.period_start),
    periodEnd: asDate(r.period_end),
    ...(r.purpose === PURPOSE_RESEARCH ? { purpose: PURPOSE_RESEARCH } : {}),
  };
}

function storedFromRow(r: HistoryRow): StoredConsent {
  return {
    id: r.id,
    version: r.version,
    bsn: r.bsn,
    resource: typeof r.resource === 'string' ? JSON.parse(r.resource) : r.resource,
    recordedAt: asDate(r.recorded_at)!,
    recordedBy: {
      kind: r.recorded_by_kind,
      ...(r.recorded_by_ura ? { ura: r.recorded_by_ura } : {}),
      ...(r.recorded_by_professional ? { professional: r.recorded_by_professional } : {}),
    },
  };
}

export const CURRENT_BY_BSN_SQL =
  'SELECT id, version, bsn, status, provision, holder_uras, holder_types, requester_uras, requester_types, data_categories, period_start, period_end, purpose FROM consent_current WHERE bsn = $1';

export class ConsentRegistry {
  constructor(private readonly store: Store) {}

  async create(input: unknown, by: RecordedBy, guard?: WriteGuard): Promise<StoredConsent> {
    const choice = parseConsent(input);
    guard?.(choice, null);
    return this.store.transaction((tx) => this.write(tx, randomUUID(), 1, choice, input as Consent, by));
  }

  /** Writes a new version; `ifMatch` (a version number) makes it conditional. */
  async update(id: string, input: unknown, by: RecordedBy, options: { ifMatch?: number; guard?: WriteGuard } = {}): Promise<StoredConsent> {
    const choice = parseConsent(input);
    const bodyId = (input as Consent).id;
    if (bodyId !== undefined && bodyId !== id) throw unprocessable(`resource id ${bodyId} does not match the URL (${id})`);
    return this.store.transaction(async (tx) => {
      const [prev] = await tx.query<HistoryRow>(
        'SELECT h.* FROM consent_current c JOIN consent_history h ON h.id = c.id AND h.version = c.version WHERE c.id = $1 FOR UPDATE OF c',
        [id],
      );
      if (!prev) throw notFound(`Consent/${id} does not exist (create it with POST)`);
      const previous = storedFromRow(prev);
      if (options.ifMatch !== undefined && options.ifMatch !== previous.version) {
        throw preconditionFailed(`Consent/${id} is at version ${previous.version}, not ${options.ifMatch}`);
      }
      options.guard?.(choice, previous);
      if (previous.bsn !== choice.bsn) throw unprocessable('a consent cannot move to another patient; record a new one');
      return this.write(tx, id, previous.version + 1, choice, input as Consent, by);
    });
  }

  private async write(tx: Queryable, id: string, version: number, choice: ParsedConsent, input: Consent, by: RecordedBy): Promise<StoredConsent> {
    const recordedAt = new Date();
    const extension = (input.extension ?? []).filter((e) => e.url !== CONSENT_URI.recordedOnBehalf);
    if (by.kind === 'provider' && by.ura) {
      extension.push({ url: CONSENT_URI.recordedOnBehalf, valueIdentifier: { system: 'http://fhir.nl/fhir/NamingSystem/ura', value: by.ura } });
    }
    const resource: Consent = {
      ...input,
      id,
      meta: { ...(input.meta ?? {}), versionId: String(version), lastUpdated: recordedAt.toISOString() },
      ...(extension.length ? { extension } : {}),
    };
    if (!extension.length) delete resource.extension;
    try {
      await tx.query(
        `INSERT INTO consent_history (id, version, bsn, resource, recorded_at, recorded_by_kind, recorded_by_ura, recorded_by_professional)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
        [id, version, choice.bsn, JSON.stringify(resource), recordedAt, by.kind, by.ura ?? null, by.professional ?? null],
      );
    } catch (err) {
      if (/duplicate key/i.test(String((err as Error).message))) throw conflict(`Consent/${id} version ${version} was written concurrently`);
      throw err;
    }
    await tx.query(
      `INSERT INTO consent_current (id, version, bsn, status, provision, holder_uras, holder_types, requester_uras, requester_types, data_categories, period_start, period_end, updated_at, purpose)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
       ON CONFLICT (id) DO UPDATE SET version = EXCLUDED.version, status = EXCLUDED.status, provision = EXCLUDED.provision,
         holder_uras = EXCLUDED.holder_uras, holder_types = EXCLUDED.holder_types, requester_uras = EXCLUDED.requester_uras,
         requester_types = EXCLUDED.requester_types, data_categories = EXCLUDED.data_categories,
         period_start = EXCLUDED.period_start, period_end = EXCLUDED.period_end, updated_at = EXCLUDED.updated_at, purpose = EXCLUDED.purpose`,
      [
        id, version, choice.bsn, choice.status, choice.provision, choice.holderUras, choice.holderTypes, choice.requesterUras,
        choice.requesterTypes, choice.dataCategories, choice.periodStart ?? null, choice.periodEnd ?? null, recordedAt, choice.purpose ?? PURPOSE_TREAT,
      ],
    );
    await enqueueNotifications(tx, choice.bsn, id, version);
    return { id, version, bsn: choice.bsn, resource, recordedAt, recordedBy: by };
  }

  async read(id: string, version?: number): Promise<StoredConsent | null> {
    const rows =
      version === undefined
        ? await this.store.query<HistoryRow>(
            'SELECT h.* FROM consent_current c JOIN consent_history h ON h.id = c.id AND h.version = c.version WHERE c.id = $1',
            [id],
          )
        : await this.store.query<HistoryRow>('SELECT * FROM consent_history WHERE id = $1 AND version = $2', [id, version]);
    return rows[0] ? storedFromRow(rows[0]) : null;
  }

  /** Every version of one choice, newest first. */
  async history(id: string): Promise<StoredConsent[]> {
    const rows = await this.store.query<HistoryRow>('SELECT * FROM consent_history WHERE id = $1 ORDER BY version DESC', [id]);
    return rows.map(storedFromRow);
  }

  /** The current version of each of a citizen's choices. */
  async ofCitizen(bsn: string): Promise<StoredConsent[]> {
    const rows = await this.store.query<HistoryRow>(
      'SELECT h.* FROM consent_current c JOIN consent_history h ON h.id = c.id AND h.version = c.version WHERE c.bsn = $1 ORDER BY h.recorded_at',
      [bsn],
    );
    return rows.map(storedFromRow);
  }

  async recordsOf(bsn: string): Promise<ConsentRecord[]> {
    const rows = await this.store.query<CurrentRow>(CURRENT_BY_BSN_SQL, [bsn]);
    return rows.map(recordFromRow);
  }

  async closedQuestion(q: ClosedQuestion, mode: ConsentMode): Promise<ClosedAnswer> {
    return decide(q, await this.recordsOf(q.bsn), mode);
  }
}
