import type { PartClient } from '../kit/http/client.ts';
import type { Probe } from './types.ts';

/** A probe through the network client: mutual TLS as the client's certificate, a token for `scope` when given. */
export function partClientProbe(client: PartClient, options: { scope?: string; resource?: string } = {}): Probe {
  return async (url, init = {}) => {
    const res = await client.call(url, {
      method: init.method,
      headers: init.headers,
      body: init.body,
      retries: 0,
      ...(options.scope ? { scope: options.scope, resource: options.resource } : {}),
    });
    return { status: res.status, headers: res.headers, body: res.body };
  };
}
