import { HttpError } from '../../kit/fhir/outcome.ts';
import type { PartClient } from '../../kit/http/client.ts';
import type { CitizenApp } from '../../trust/contract.ts';

// The portal's view of the trust framework's app register, read over mutual TLS and kept for at
// most `maxAgeMs` (default 30 s): a suspension made by the operator stops an app's tokens at the
// portal within that time, and the delegation tokens the holders accept live 60 s, so within a
// minute no holder answers the app any more.

export interface AppRegister {
  /** The app, or undefined when the register does not know it. Throws when the register cannot be asked. */
  find(clientId: string): Promise<CitizenApp | undefined>;
}

export function httpAppRegister(o: { client: PartClient; trustUrl: () => string; maxAgeMs?: number }): AppRegister {
  const cache = new Map<string, { at: number; app: CitizenApp | undefined }>();
  const maxAge = o.maxAgeMs ?? 30_000;
  return {
    async find(clientId) {
      const hit = cache.get(clientId);
      if (hit && Date.now() - hit.at < maxAge) return hit.app;
      // Deny on error: when the register cannot be asked, no app gets in (503, never a 500).
      const r = await o.client.call<CitizenApp>(`${o.trustUrl()}/citizen-apps/${encodeURIComponent(clientId)}`, { retries: 0 }).catch((err: Error) => {
        throw new HttpError(503, 'transient', `the app register cannot be asked: ${err.message}`);
      });
      if (r.status !== 200 && r.status !== 404) throw new HttpError(503, 'transient', `the app register answered ${r.status}`);
      const app = r.status === 200 ? r.body : undefined;
      if (cache.size > 1000) cache.clear();
      cache.set(clientId, { at: Date.now(), app });
      return app;
    },
  };
}
