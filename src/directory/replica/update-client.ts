import type { Bundle } from '@medplum/fhirtypes';
import type { Store } from '../../kit/store/store.ts';
import { LOAD_ORDER } from '../codes.ts';
import { applyResources } from './apply.ts';

// The update client (GF IG 0.10 update-client actor): initial load of the whole directory in
// load order, then `_history?_since` at one common interval with jitter. Strictly sequential:
// one cycle at a time. The watermark advances only after a whole cycle has been applied, so a
// failure anywhere resumes from the last good watermark; duplicates from the inclusive `_since`
// are harmless because applying is idempotent. Queries keep reading the replica throughout.

/** Fetches one page; throws when the directory is down or answers with an error. */
export type Fetcher = (url: string) => Promise<Bundle>;

export interface UpdateClientLog {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

export interface UpdateClientOptions {
  /** The replica's store, migrated with REPLICA_MIGRATIONS. */
  store: Store;
  /** Base URL of the national directory. */
  directoryUrl: string;
  fetch: Fetcher;
  /** Interval between incremental syncs; the IG advises ~15 minutes. */
  intervalMs?: number;
  /** Up to this much random delay is added to each interval, so nodes do not sync in step. */
  jitterMs?: number;
  pageSize?: number;
  backoffInitialMs?: number;
  backoffMaxMs?: number;
  log?: UpdateClientLog;
  random?: () => number;
  /** Waits ms or until aborted (injectable so tests need not sleep). */
  wait?: (ms: number, signal: AbortSignal) => Promise<void>;
  /** Name of this source in dir_sync_state (several directories could be replicated). */
  source?: string;
  /** Called after each cycle, successful or not. */
  onCycle?: (report: SyncReport) => void;
}

export interface SyncReport {
  kind: 'initial' | 'incremental';
  ok: boolean;
  pages: number;
  entries: number;
  changed: number;
  watermark: string | null;
  error?: string;
}

export interface SyncStatus {
  ready: boolean;
  watermark: string | null;
  consecutiveFailures: number;
  lastError: string | null;
  lastSuccessAt: string | null;
}

const MAX_PAGES_PER_TYPE = 1_000_000;

function defaultWait(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

export class UpdateClient {
  private readonly base: string;
  private readonly source: string;
  private running: Promise<SyncReport> | null = null;
  private loop: Promise<void> | null = null;
  private abort = new AbortController();
  private failures = 0;
  private lastError: string | null = null;
  private lastSuccessAt: string | null = null;

  constructor(private readonly options: UpdateClientOptions) {
    this.base = options.directoryUrl.replace(/\/+$/, '');
    this.source = options.source ?? 'national';
  }

  private get pageSize(): number {
    return this.options.pageSize ?? 500;
  }

  async status(): Promise<SyncStatus> {
    const state = await this.readState();
    return { ...state, consecutiveFailures: this.failures, lastError: this.lastError, lastSuccessAt: this.lastSuccessAt };
  }

  /** One cycle now (initial load if the replica has never been loaded). Concurrent callers share it. */
  syncNow(): Promise<SyncReport> {
    this.running ??= this.cycle().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  /** Runs cycles forever: interval + jitter after success, exponential backoff after failure. */
  start(): void {
    if (this.loop) return;
    this.abort = new AbortController();
    const signal = this.abort.signal;
    const wait = this.options.wait ?? defaultWait;
    this.loop = (async () => {
      while (!signal.aborted) {
        const report = await this.syncNow().catch((err: Error) => ({ ok: false, error: err.message }) as SyncReport);
        if (signal.aborted) break;
        await wait(report.ok ? this.nextInterval() : this.backoffDelay(), signal);
      }
    })();
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.loop?.catch(() => {});
    this.loop = null;
    await this.running?.catch(() => {});
  }

  nextInterval(): number {
    const random = this.options.random ?? Math.random;
    return (this.options.intervalMs ?? 15 * 60_000) + Math.floor(random() * (this.options.jitterMs ?? 60_000));
  }

  /** Delay before retry number `failures` (1, 2, …): doubling, capped, with half-jitter. */
  backoffDelay(failures = this.failures): number {
    const random = this.options.random ?? Math.random;
    const initial = this.options.backoffInitialMs ?? 1_000;
    const max = this.options.backoffMaxMs ?? 5 * 60_000;
    const full = Math.min(max, initial * 2 ** Math.max(0, failures - 1));
    return Math.floor(full / 2 + (random() * full) / 2);
  }

  private async cycle(): Promise<SyncReport> {
    const state = await this.readState();
    const kind = state.watermark && state.ready ? 'incremental' : 'initial';
    const report: SyncReport = { kind, ok: false, pages: 0, entries: 0, changed: 0, watermark: state.watermark };
    try {
      if (kind === 'initial') await this.initialLoad(report);
      else await this.incremental(state.watermark as string, report);
      report.ok = true;
      this.failures = 0;
      this.lastError = null;
      this.lastSuccessAt = new Date().toISOString();
      this.options.log?.info({ event: 'directory.sync', ...report }, 'directory replica synchronised');
    } catch (err) {
      this.failures += 1;
      report.error = (err as Error).message;
      this.lastError = report.error;
      this.options.log?.warn({ event: 'directory.sync.failed', ...report, failures: this.failures }, 'directory sync failed; replica keeps serving');
    }
    this.options.onCycle?.(report);
    if (!report.ok) throw new Error(report.error);
    return report;
  }

  private async initialLoad(report: SyncReport): Promise<void> {
    let watermark: string | null = null;
    for (const type of LOAD_ORDER) {
      await this.pages(`${this.base}/${type}?_count=${this.pageSize}`, report, (first) => {
        watermark ??= first; // the very first page's time covers everything loaded after it
      });
    }
    if (!watermark) throw new Error('the directory sent no Bundle.meta.lastUpdated on the first page; cannot start incremental sync');
    // Catch up with what changed while loading; only then is the replica fit to answer queries.
    await this.incremental(watermark, report);
  }

  private async incremental(since: string, report: SyncReport): Promise<void> {
    const firsts: Array<string | undefined> = [];
    for (const type of LOAD_ORDER) {
      let first: string | undefined;
      await this.pages(`${this.base}/${type}/_history?_since=${encodeURIComponent(since)}&_count=${this.pageSize}`, report, (t) => {
        first ??= t;
      });
      firsts.push(first);
    }
    // The next _since is the earliest first-page time of this cycle; without one, stay put.
    const next = firsts.every((f) => f !== undefined) ? (firsts as string[]).sort()[0] : since;
    await this.writeState(next > since ? next : since, true);
    report.watermark = next > since ? next : since;
  }

  /** Follows next links from `url`, applying each page; `onFirst` gets the first page's meta.lastUpdated. */
  private async pages(url: string, report: SyncReport, onFirst: (lastUpdated: string) => void): Promise<void> {
    const origin = new URL(this.base).origin;
    const seen = new Set<string>();
    let next: string | undefined = url;
    for (let n = 0; next; n++) {
      if (n >= MAX_PAGES_PER_TYPE || seen.has(next)) throw new Error(`the directory's next links loop at ${next}`);
      seen.add(next);
      const page = await this.options.fetch(next);
      if (page?.resourceType !== 'Bundle') throw new Error(`expected a Bundle from ${next}`);
      const lastUpdated = page.meta?.lastUpdated;
      if (n === 0 && lastUpdated && !Number.isNaN(Date.parse(lastUpdated))) onFirst(new Date(Date.parse(lastUpdated)).toISOString());
      const resources = (page.entry ?? []).map((e) => e.resource);
      report.pages += 1;
      report.entries += resources.length;
      report.changed += await applyResources(this.options.store, resources);
      next = page.link?.find((l) => l.relation === 'next')?.url;
      // Never follow a next link to another host (it would receive our client certificate).
      if (next && new URL(next, this.base).origin !== origin) throw new Error(`refusing a next link to another host: ${next}`);
      if (next) next = new URL(next, this.base).toString();
    }
  }

  private async readState(): Promise<{ ready: boolean; watermark: string | null }> {
    const rows = await this.options.store.query<{ watermark: string | null; ready: boolean }>(
      'SELECT watermark, ready FROM dir_sync_state WHERE source = $1',
      [this.source],
    );
    return { watermark: rows[0]?.watermark ?? null, ready: rows[0]?.ready ?? false };
  }

  private async writeState(watermark: string, ready: boolean): Promise<void> {
    await this.options.store.query(
      `INSERT INTO dir_sync_state (source, watermark, ready, updated_at) VALUES ($1, $2, $3, now())
       ON CONFLICT (source) DO UPDATE SET watermark = EXCLUDED.watermark, ready = EXCLUDED.ready, updated_at = now()`,
      [this.source, watermark, ready],
    );
  }
}
