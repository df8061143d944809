import diagnostics from 'node:diagnostics_channel';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Sandbox } from '../../src/sandbox/sandbox.ts';

// Measures, from the holders' side, how long each holder took for its part of an overview:
//  - node: the holder's node serving the batch call (request in → response finished, as seen by
//    the holder's HTTPS server): its enforcement point, consent, audit and its EHR together;
//  - ehr: the time the holder's node spent waiting on its EHR (undici's diagnostics channels on
//    the node's EHR connector), summed per holder because the node calls its EHR one at a time.
// It also times every outbound undici call (to central parts, nodes, EHRs), so that the
// requester's critical path before the first holder call and after the last holder answer can
// be attributed. Everything runs in one process, so all of it is observable without touching
// the parts; it is only meaningful while one overview runs at a time.

export interface HolderTimes {
  /** Slowest holder node's own serving time. */
  slowestNodeMs: number;
  /** Slowest holder's summed EHR time. */
  slowestEhrMs: number;
  /** EHR requests per holder call (mean). */
  ehrCallsPerHolder: number;
  holders: number;
  meanResponseBytes: number;
  /** From `t0` to the first holder call arriving (localise, address, tokens, connect). */
  beforeFanOutMs: number;
  /** From the last holder answer written to `t1` (transport, merge, requester audit). */
  afterFanOutMs: number;
  /** Outbound calls (by service name) that ran in those two windows: count and summed ms. */
  criticalCalls: Record<string, { n: number; ms: number }>;
}

type UndiciRequest = { origin?: string | URL; path?: string; method?: string };
interface Span {
  start: number;
  end: number;
}

export class HolderProbe {
  private nodeSpans: Array<Span & { ura: string; bytes: number }> = [];
  private clientSpans: Array<Span & { service: string; path: string }> = [];
  private readonly started = new WeakMap<object, number>();
  private readonly services: Map<string, string>;
  private readonly onCreate = (m: unknown) => {
    this.started.set((m as { request: UndiciRequest }).request, performance.now());
  };
  private readonly onDone = (m: unknown) => {
    const req = (m as { request: UndiciRequest }).request;
    const start = this.started.get(req);
    if (start === undefined) return;
    this.started.delete(req);
    const origin = String(req.origin ?? '').replace(/\/$/, '');
    this.clientSpans.push({ service: this.services.get(origin) ?? origin, path: req.path ?? '', start, end: performance.now() });
  };
  private readonly detach: Array<() => void> = [];

  constructor(sandbox: Sandbox, requesterNode: string) {
    this.services = new Map(sandbox.network.entries().map(([name, url]) => [new URL(url).origin, name]));
    this.services.set(new URL(sandbox.ehr.url).origin, 'ehr');
    diagnostics.subscribe('undici:request:create', this.onCreate);
    diagnostics.subscribe('undici:request:trailers', this.onDone);
    diagnostics.subscribe('undici:request:error', this.onDone);
    for (const node of sandbox.nodes.filter((n) => n.name !== requesterNode)) {
      const listener = (req: IncomingMessage, res: ServerResponse) => {
        const ura = req.method === 'POST' ? /^\/org\/(\d{8})\/fhir\/?$/.exec(req.url ?? '')?.[1] : undefined;
        if (!ura) return;
        const start = performance.now();
        res.once('finish', () => this.nodeSpans.push({ ura, start, end: performance.now(), bytes: Number(res.getHeader('content-length') ?? 0) }));
      };
      node.service.app.server.on('request', listener);
      this.detach.push(() => node.service.app.server.off('request', listener));
    }
  }

  /** Forgets what was seen so far (call right before each measured overview). */
  reset(): void {
    this.nodeSpans = [];
    this.clientSpans = [];
  }

  /** What happened between `t0` and `t1` (performance.now() around one overview). */
  take(t0: number, t1: number): HolderTimes {
    const ehrByUra = new Map<string, { ms: number; n: number }>();
    for (const s of this.clientSpans) {
      // The EHR calls of the holders' batch calls; not the referral sync's change polling (_history, metadata).
      const ura = s.service === 'ehr' ? /\/ehr\/(\d{8})\/fhir\/(?!changes|_history|metadata)/.exec(s.path)?.[1] : undefined;
      if (!ura) continue;
      const e = ehrByUra.get(ura) ?? { ms: 0, n: 0 };
      e.ms += s.end - s.start;
      e.n++;
      ehrByUra.set(ura, e);
    }
    const ehr = [...ehrByUra.values()];
    const firstIn = Math.min(t1, ...this.nodeSpans.map((s) => s.start));
    const lastOut = Math.max(t0, ...this.nodeSpans.map((s) => s.end));
    const criticalCalls: HolderTimes['criticalCalls'] = {};
    for (const s of this.clientSpans) {
      if (s.service === 'ehr' || s.start < t0 || s.end > t1) continue;
      const before = s.end <= firstIn;
      const after = s.start >= lastOut;
      if (!before && !after) continue;
      const key = `${before ? 'before' : 'after'}:${s.service.startsWith('node:') ? `node${s.path.split('?')[0].replace(/\d{8}/g, '<ura>')}` : s.service}`;
      const c = criticalCalls[key] ?? { n: 0, ms: 0 };
      c.n++;
      c.ms += s.end - s.start;
      criticalCalls[key] = c;
    }
    const times: HolderTimes = {
      slowestNodeMs: Math.max(0, ...this.nodeSpans.map((s) => s.end - s.start)),
      slowestEhrMs: Math.max(0, ...ehr.map((e) => e.ms)),
      ehrCallsPerHolder: ehr.length ? ehr.reduce((a, e) => a + e.n, 0) / ehr.length : 0,
      holders: this.nodeSpans.length,
      meanResponseBytes: this.nodeSpans.length ? this.nodeSpans.reduce((a, s) => a + s.bytes, 0) / this.nodeSpans.length : 0,
      beforeFanOutMs: firstIn - t0,
      afterFanOutMs: t1 - lastOut,
      criticalCalls,
    };
    this.reset();
    return times;
  }

  close(): void {
    diagnostics.unsubscribe('undici:request:create', this.onCreate);
    diagnostics.unsubscribe('undici:request:trailers', this.onDone);
    diagnostics.unsubscribe('undici:request:error', this.onDone);
    for (const d of this.detach) d();
  }
}
