import { PartClient } from '../../kit/http/client.ts';
import { TrustTokenProvider } from '../../trust/contract.ts';
import type { NodeTenant } from '../environment.ts';

// One outbound client per tenant for notified pull: its own certificate, tokens from the other
// node's authorisation server (every node runs one at the root of its origin).
export class WorkflowClients {
  private readonly clients = new Map<string, { client: PartClient; tokens: TrustTokenProvider }>();

  of(tenant: NodeTenant): PartClient {
    let c = this.clients.get(tenant.ura);
    if (!c) {
      const tokens = new TrustTokenProvider({
        tls: tenant.identity,
        ura: tenant.ura,
        client: new PartClient({ tls: tenant.identity, maxRetries: 0 }),
        tokenEndpoint: (resource) => `${new URL(resource).origin}/oauth/token`,
      });
      c = { client: new PartClient({ tls: tenant.identity, tokens, maxRetries: 0, defaultDeadlineMs: 10_000 }), tokens };
      this.clients.set(tenant.ura, c);
    }
    return c.client;
  }

  async close(): Promise<void> {
    for (const c of this.clients.values()) {
      await c.client.close();
      await c.tokens.close?.();
    }
    this.clients.clear();
  }
}

/** The token audience (an organisation's base on a node) of a FHIR URL under it. */
export function organisationBaseOf(fhirUrl: string): string {
  const m = /^(https:\/\/[^/]+\/org\/\d{8})\/fhir(\/|$)/.exec(fhirUrl);
  if (!m) throw new Error(`not an organisation's FHIR URL: ${fhirUrl}`);
  return m[1];
}
