import { tooManyRequests } from '../../kit/fhir/outcome.ts';

// Bounds on one requester's share of this node's fan-out: a clinician (or a script holding her
// token) cannot make the node open hundreds of holder calls at once. Each requester has at most
// `overviews` overviews in progress (the excess is answered 429 with Retry-After at once,
// never queued behind a deadline), and each overview at most `holders` holder calls in flight.

export interface FanOutLimits {
  /** Overviews in progress per requester. */
  overviews: number;
  /** Holder calls in flight per overview. */
  holders: number;
}

export const DEFAULT_FAN_OUT_LIMITS: FanOutLimits = { overviews: 8, holders: 16 };


export class FanOutLimiter {
  private readonly active = new Map<string, number>();
  constructor(readonly limits: FanOutLimits = DEFAULT_FAN_OUT_LIMITS) {}

  /** Runs `work` as one of `requester`'s overviews; 429 when she already has the maximum running. */
  async run<T>(requester: string, work: () => Promise<T>): Promise<T> {
    const n = this.active.get(requester) ?? 0;
    if (n >= this.limits.overviews) {
      throw tooManyRequests(`at most ${this.limits.overviews} overviews at a time per requester; wait for one to finish`, 1);
    }
    this.active.set(requester, n + 1);
    try {
      return await work();
    } finally {
      const left = (this.active.get(requester) ?? 1) - 1;
      if (left <= 0) this.active.delete(requester);
      else this.active.set(requester, left);
    }
  }

  /** Running overviews of a requester (tests, metrics). */
  running(requester: string): number {
    return this.active.get(requester) ?? 0;
  }
}

/** `fn` over `items` with at most `width` calls in flight; results in input order. */
export async function mapBounded<T, R>(items: readonly T[], width: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(Math.max(1, width), items.length) }, lane));
  return out;
}
