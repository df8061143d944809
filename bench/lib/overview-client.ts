import type { Bundle, OperationOutcome, Resource } from '@medplum/fhirtypes';
import { PartClient } from '../../src/kit/http/client.ts';
import { SYSTEM } from '../../src/kit/identifiers/systems.ts';
import type { TraceContext } from '../../src/kit/trace.ts';
import type { Sandbox } from '../../src/sandbox/sandbox.ts';
import { TrustTokenProvider } from '../../src/trust/auth/token-provider.ts';

// An organisation's EHR asking its own node for overviews, as a long-lived client would: one
// mTLS connection pool and one token cache for all calls (per clinician), so that a benchmark
// measures the overview and not a TLS handshake and a token request per call.

export interface OverviewAnswer {
  status: number;
  body: Bundle & OperationOutcome;
  ms: number;
}

export interface OverviewAsk {
  verklaring: string;
  bsn: string;
  /** Query parameter `exchange` (default acute-zorg). */
  exchange?: string;
  /** Token scope to ask the node's AS for (default: the exchange). */
  scope?: string;
  /** Raw `identifier` parameter (default the BSN system|bsn). */
  identifier?: string;
  trace?: TraceContext;
}

export class OverviewClient {
  private readonly client: PartClient;
  private readonly tokens: TrustTokenProvider;
  private readonly nodeUrl: string;

  constructor(sandbox: Sandbox, ura: string, options: { connections?: number; deadlineMs?: number } = {}) {
    const participant = sandbox.manifest.participants.find((p) => p.ura === ura);
    if (!participant?.nodeUrl) throw new Error(`no participant ${ura} with a node in the sandbox`);
    const identity = sandbox.identities.participants.get(ura)!;
    this.nodeUrl = participant.nodeUrl;
    this.tokens = new TrustTokenProvider({ tls: identity, ura, tokenEndpoint: `${new URL(participant.nodeUrl).origin}/oauth/token` });
    this.client = new PartClient({ tls: identity, tokens: this.tokens, maxRetries: 0, defaultDeadlineMs: options.deadlineMs ?? 60_000, connections: options.connections ?? 16 });
  }

  async overview(ask: OverviewAsk): Promise<OverviewAnswer> {
    const exchange = ask.exchange ?? 'acute-zorg';
    const identifier = ask.identifier ?? `${SYSTEM.bsn}|${ask.bsn}`;
    const started = performance.now();
    const r = await this.client.call<Bundle & OperationOutcome>(
      `${this.nodeUrl}/fhir/Patient/$overview?identifier=${encodeURIComponent(identifier)}&exchange=${encodeURIComponent(exchange)}`,
      {
        scope: ask.scope ?? exchange,
        resource: this.nodeUrl,
        userAssertion: ask.verklaring,
        trace: ask.trace,
        headers: { 'dezi-verklaring': ask.verklaring },
      },
    );
    return { status: r.status, body: r.body, ms: performance.now() - started };
  }

  async close(): Promise<void> {
    await this.client.close();
    await this.tokens.close();
  }
}

export const bundleResources = (b: Bundle): Resource[] => (b.entry ?? []).map((e) => e.resource as Resource);
export const bundleOutcomes = (b: Bundle): OperationOutcome[] => bundleResources(b).filter((r): r is OperationOutcome => r.resourceType === 'OperationOutcome');

/** The network's consent mode, switched as the operator does (the nodes pick it up when they refresh agreements). */
export async function setConsentMode(sandbox: Sandbox, mode: 'opt-in' | 'opt-out'): Promise<void> {
  const operator = new PartClient({ tls: sandbox.identities.operator });
  try {
    const r = await operator.call(`${sandbox.network.url('trust')}/agreements/network`, {
      method: 'POST',
      body: { consentMode: mode },
      headers: { 'content-type': 'application/json' },
    });
    if (r.status !== 201) throw new Error(`switching to ${mode} failed: ${r.status} ${r.text.slice(0, 300)}`);
  } finally {
    await operator.close();
  }
}

/** Asks until no holder refuses (after a consent-mode switch); throws after `timeoutMs`. */
export async function untilNoRefusals(ask: () => Promise<OverviewAnswer>, timeoutMs = 60_000): Promise<OverviewAnswer> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const r = await ask();
    const refused = r.status === 200 && bundleOutcomes(r.body).some((o) => o.issue?.[0]?.code === 'forbidden');
    if (r.status === 200 && !refused) return r;
    if (Date.now() > until) throw new Error(`holders still refuse after ${timeoutMs} ms: ${JSON.stringify(r.body).slice(0, 500)}`);
    await new Promise((res) => setTimeout(res, 500));
  }
}
