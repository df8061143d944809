import { badRequest } from '../../kit/fhir/outcome.ts';

// Fault injection per simulated organisation, for the node's tests and benchmarks: a holder
// that is slow, hangs, fails, sends broken or huge JSON, or answers about the wrong patient.
// Faults apply to reads and searches (GET), never to writes or the admin routes.

export interface EhrFaults {
  /** Delay before answering, in ms. */
  latencyMs?: number;
  /** Never answer (until the client gives up or the server closes). */
  hang?: boolean;
  /** Answer with this HTTP status (an OperationOutcome) instead of data. */
  errorStatus?: number;
  /** Fraction of requests (0..1) that get errorStatus (default 500), spread evenly, deterministic. */
  errorRate?: number;
  /** Cut the JSON body in half. */
  malformedJson?: boolean;
  /** Inflate the response to at least this many bytes. */
  hugeResponseBytes?: number;
  /** Answer with another patient's data. */
  wrongPatient?: boolean;
}

const LIMITS = { latencyMs: 600_000, hugeResponseBytes: 512 * 1024 * 1024 };

/** Validates an admin request body; unknown keys and out-of-range values are a 400. */
export function parseFaults(body: unknown): EhrFaults {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw badRequest('faults must be a JSON object');
  const out: EhrFaults = {};
  for (const [key, value] of Object.entries(body as Record<string, unknown>)) {
    switch (key) {
      case 'latencyMs':
      case 'hugeResponseBytes':
        if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > LIMITS[key]) throw badRequest(`${key} must be an integer 0..${LIMITS[key]}`);
        out[key] = value;
        break;
      case 'errorStatus':
        if (typeof value !== 'number' || !Number.isInteger(value) || value < 400 || value > 599) throw badRequest('errorStatus must be an HTTP error status 400..599');
        out.errorStatus = value;
        break;
      case 'errorRate':
        if (typeof value !== 'number' || !(value >= 0 && value <= 1)) throw badRequest('errorRate must be a number 0..1');
        out.errorRate = value;
        break;
      case 'hang':
      case 'malformedJson':
      case 'wrongPatient':
        if (typeof value !== 'boolean') throw badRequest(`${key} must be a boolean`);
        out[key] = value;
        break;
      default:
        throw badRequest(`unknown fault: ${key}`);
    }
  }
  return out;
}

/** Shared, mutable fault settings per URA (tests may set them directly, without HTTP). */
export class EhrFaultRegistry {
  private readonly faults = new Map<string, EhrFaults>();
  private readonly counters = new Map<string, number>();

  set(ura: string, faults: EhrFaults): void {
    this.faults.set(ura, { ...faults });
    this.counters.set(ura, 0);
  }

  get(ura: string): EhrFaults {
    return this.faults.get(ura) ?? {};
  }

  clear(ura?: string): void {
    if (ura === undefined) {
      this.faults.clear();
      this.counters.clear();
    } else {
      this.faults.delete(ura);
      this.counters.delete(ura);
    }
  }

  /** The error status for this request, if it should fail. */
  errorFor(ura: string): number | undefined {
    const f = this.get(ura);
    if (f.errorRate === undefined) return f.errorStatus;
    const n = this.counters.get(ura) ?? 0;
    this.counters.set(ura, n + 1);
    const fails = Math.floor((n + 1) * f.errorRate) > Math.floor(n * f.errorRate);
    return fails ? (f.errorStatus ?? 500) : undefined;
  }
}

/** Serialises a response body, applying the body-shaping faults. */
export function shapeBody(body: unknown, faults: EhrFaults): string {
  let value = body;
  const huge = faults.hugeResponseBytes ?? 0;
  if (huge > 0) value = inflate(body, huge);
  const json = JSON.stringify(value);
  if (faults.malformedJson) return `${json.slice(0, Math.max(1, Math.floor(json.length / 2)))}{"broken`;
  return json;
}

function inflate(body: unknown, bytes: number): unknown {
  const b = body as { resourceType?: string; entry?: unknown[] };
  if (b?.resourceType === 'Bundle' && b.entry && b.entry.length > 0) {
    // Repeat the real entries: what a runaway history query would look like.
    const one = JSON.stringify(b.entry).length;
    const times = Math.max(1, Math.ceil(bytes / Math.max(1, one)));
    return { ...b, entry: Array.from({ length: times }, () => b.entry as unknown[]).flat() };
  }
  const padding = { severity: 'information', code: 'informational', diagnostics: 'x'.repeat(bytes) };
  if (b?.resourceType === 'Bundle') {
    return { ...b, entry: [{ resource: { resourceType: 'OperationOutcome', issue: [padding] }, search: { mode: 'outcome' } }] };
  }
  return { ...(body as object), text: { status: 'generated', div: `<div xmlns="http://www.w3.org/1999/xhtml">${'x'.repeat(bytes)}</div>` } };
}
