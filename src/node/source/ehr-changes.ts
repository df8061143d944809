import type { Bundle, BundleEntry, CapabilityStatement, Resource } from '@medplum/fhirtypes';
import { type EhrConnector, EhrError } from './ehr-connector.ts';

// What changed in an EHR since a moment, through what FHIR servers offer:
//   history  GET [base]/_history?_since=   when its CapabilityStatement declares history-system
//   search   GET [type]?_lastUpdated=ge…&_sort=_lastUpdated per type, and a read of each held
//            resource to notice deletions, for servers without system history (e.g. Medplum's
//            fhir-router 4.5.2, which has instance history only).
// The cursor is the EHR's own lastUpdated of the newest change seen, minus an overlap, so a
// clock difference between node and EHR loses nothing; changes seen twice are applied twice,
// which the referral sync makes harmless (it is idempotent).

export interface EhrChange {
  action: 'upsert' | 'delete';
  resourceType: string;
  id: string;
  /** The resource as the EHR holds it now (absent for a delete, or when the history left it out). */
  resource?: Resource;
}

export type ChangeMode = 'history' | 'search';

/** How far back each poll reaches before the newest change it saw (ms). */
export const OVERLAP_MS = 5_000;

function lastModified(e: BundleEntry): string | undefined {
  return e.response?.lastModified ?? e.resource?.meta?.lastUpdated;
}

function changeOf(e: BundleEntry): EhrChange | undefined {
  const url = e.request?.url ?? e.fullUrl ?? '';
  if (e.request?.method === 'DELETE') {
    const [resourceType, id] = url.split('?')[0].split('/').slice(-2);
    return resourceType && id ? { action: 'delete', resourceType, id } : undefined;
  }
  const r = e.resource;
  if (r?.resourceType && r.id) return { action: 'upsert', resourceType: r.resourceType, id: r.id, resource: r };
  const [resourceType, id] = url.split('/').slice(-2);
  return resourceType && id ? { action: 'upsert', resourceType, id } : undefined;
}

export class EhrChangeFeed {
  private detected: ChangeMode | undefined;

  constructor(
    private readonly connector: EhrConnector,
    /** Resource types to poll in search mode (the types the agreements' queries name). */
    private readonly types: () => string[],
  ) {}

  /** history when the EHR declares system history, search otherwise; asked once. */
  async mode(): Promise<ChangeMode> {
    if (this.detected) return this.detected;
    const cs = (await this.connector.getJson(`${this.connector.baseUrl}/metadata`).catch(() => undefined)) as CapabilityStatement | undefined;
    const history = cs?.resourceType === 'CapabilityStatement' && cs.rest?.some((r) => r.interaction?.some((i) => i.code === 'history-system'));
    this.detected = history ? 'history' : 'search';
    return this.detected;
  }

  /**
   * Every change since `since` (undefined: from the beginning), page by page to `onPage`, which
   * receives the cursor to store once the page is applied. Returns the final cursor.
   */
  async poll(since: string | undefined, onPage: (changes: EhrChange[], cursor: string | undefined) => Promise<void>, pageSize = 200): Promise<string | undefined> {
    const mode = await this.mode();
    let newest = since ? Date.parse(since) + OVERLAP_MS : Number.NEGATIVE_INFINITY;
    const cursor = () => (Number.isFinite(newest) ? new Date(newest - OVERLAP_MS).toISOString() : since);
    const follow = async (first: string) => {
      let url: string | undefined = first;
      while (url) {
        const bundle = (await this.connector.getJson(url)) as Bundle;
        if (bundle?.resourceType !== 'Bundle') throw new EhrError('EHR answered its change poll with something other than a Bundle');
        const changes: EhrChange[] = [];
        for (const e of bundle.entry ?? []) {
          if (e.search?.mode === 'outcome' || e.search?.mode === 'include') continue;
          const c = changeOf(e);
          if (c) changes.push(c);
          const at = Date.parse(lastModified(e) ?? '');
          if (!Number.isNaN(at) && at > newest) newest = at;
        }
        await onPage(changes, cursor());
        url = bundle.link?.find((l) => l.relation === 'next')?.url;
      }
    };
    if (mode === 'history') {
      const params = new URLSearchParams({ _count: String(pageSize) });
      if (since) params.set('_since', since);
      await follow(`${this.connector.baseUrl}/_history?${params}`);
    } else {
      for (const type of this.types()) {
        const params = new URLSearchParams({ _sort: '_lastUpdated', _count: String(pageSize) });
        if (since) params.set('_lastUpdated', `ge${since}`);
        await follow(`${this.connector.baseUrl}/${type}?${params}`);
      }
    }
    return cursor();
  }

  /** Of these `Type/id` keys, the ones the EHR no longer has (404 or 410 on read). */
  async gone(keys: string[]): Promise<string[]> {
    const out: string[] = [];
    for (const key of keys) {
      const [type, id] = key.split('/');
      if (!(await this.connector.exists(type, id))) out.push(key);
    }
    return out;
  }
}
