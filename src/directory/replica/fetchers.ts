import type { Bundle } from '@medplum/fhirtypes';
import type { PartClient } from '../../kit/http/client.ts';
import type { Store } from '../../kit/store/store.ts';
import { isDirectoryType } from '../codes.ts';
import { historyOf, searchEntries } from '../query.ts';
import type { Fetcher } from './update-client.ts';

// Ways for the update client to read the directory: over mTLS with the kit's client (nodes,
// portals), or in-process against the directory's store (tests, single-process tools).

/** GETs pages with the kit's PartClient; any non-2xx throws (the client retries 429/503 itself). */
export function httpFetcher(client: PartClient, options: { scope?: string; deadlineMs?: number } = {}): Fetcher {
  return (url) => client.json<Bundle>(url, { scope: options.scope ?? 'directory:read', deadlineMs: options.deadlineMs ?? 30_000 });
}

/** Fails a fetch that takes longer than `ms` (a slow directory is treated like a down one). */
export function withDeadline(fetch: Fetcher, ms: number): Fetcher {
  return (url) =>
    new Promise<Bundle>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`directory did not answer within ${ms} ms: ${url}`)), ms);
      fetch(url).then(
        (b) => {
          clearTimeout(t);
          resolve(b);
        },
        (err) => {
          clearTimeout(t);
          reject(err);
        },
      );
    });
}

/** Reads the directory's store directly, answering URLs as the HTTP part would. */
export function localFetcher(directoryStore: Store, baseUrl: string): Fetcher {
  return async (url) => {
    const u = new URL(url);
    const path = u.pathname.slice(new URL(baseUrl).pathname.replace(/\/$/, '').length).replace(/^\//, '');
    const [type, op] = path.split('/');
    if (!isDirectoryType(type)) throw new Error(`not a directory URL: ${url}`);
    const query = Object.fromEntries(u.searchParams);
    if (op === '_history') return historyOf(directoryStore, type, query, baseUrl);
    if (op === undefined) return searchEntries(directoryStore, type, query, baseUrl);
    throw new Error(`not a directory page URL: ${url}`);
  };
}
