import type { JWTVerifyGetKey } from 'jose';
import type { PartClient } from '../../kit/http/client.ts';
import type { Logger } from '../../kit/log.ts';
import { remoteJwks } from '../auth/remote-jwks.ts';
import { AgreementsRefused, fetchAgreements } from './jws.ts';
import type { AgreementsDocument } from './types.ts';

// The agreements document as every part holds it: fetched from the trust framework, signature
// verified against the trust JWKS, never rolled back to an older version, refreshed on a short
// interval so an operator's change (e.g. opt-in → opt-out) reaches every decision within it.
// Until a verified document is held, `current()` throws: decisions deny on error.
// A short poll rather than PostgreSQL LISTEN/NOTIFY: the document is the trust part's data, which
// other parts may read only over its HTTP interface (never its database), and it is one small
// signed document, so fetching it every few seconds (AGREEMENTS_REFRESH_MS) is cheap and brings an
// operator's switch (e.g. to opt-out) to every instance of every part within that interval.

export interface AgreementsSource {
  current(): AgreementsDocument;
  /** Fetches now (after a change notification, or in tests). */
  refresh(): Promise<AgreementsDocument>;
  stop(): void;
}

export async function startAgreementsSource(options: {
  trustUrl: () => string;
  client: PartClient;
  refreshMs?: number;
  log?: Logger;
  /** The trust JWKS (default: fetched from the trust part; tests give the key). */
  jwks?: JWTVerifyGetKey;
}): Promise<AgreementsSource> {
  let held: AgreementsDocument | null = null;
  let jwks: ReturnType<typeof remoteJwks> | null = null;
  const refresh = async (): Promise<AgreementsDocument> => {
    const trustUrl = options.trustUrl();
    jwks ??= options.jwks ?? remoteJwks(`${trustUrl}/.well-known/jwks.json`, options.client);
    const { document } = await fetchAgreements({ trustUrl, client: options.client, minimumVersion: held?.version, jwks });
    if (!held || document.version > held.version) {
      options.log?.info({ version: document.version, consentMode: document.network.consentMode }, 'agreements in force');
    }
    held = document;
    return document;
  };
  // The first document is worth waiting for (a part holding none denies everything): a trust part
  // slow to answer at start, as on a loaded machine, is asked again; a refusal is final.
  for (let attempt = 1; ; attempt++) {
    try {
      await refresh();
      break;
    } catch (err) {
      if (err instanceof AgreementsRefused || attempt >= 3) throw err;
      options.log?.warn({ err: (err as Error).message, attempt }, 'agreements not fetched at start; trying again');
      await new Promise((r) => setTimeout(r, 1000 * attempt));
    }
  }
  const timer = setInterval(() => {
    refresh().catch((err: Error) => {
      const level = err instanceof AgreementsRefused ? 'error' : 'warn';
      options.log?.[level]({ err: err.message }, 'agreements refresh refused; keeping the held version');
    });
  }, options.refreshMs ?? 5000);
  timer.unref();
  return {
    current() {
      if (!held) throw new Error('no verified agreements document held');
      return held;
    },
    refresh,
    stop: () => clearInterval(timer),
  };
}
