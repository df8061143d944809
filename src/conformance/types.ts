// The conformance kit's vocabulary: a probe is one HTTP call as the tested role; a check is one
// named rule with its verdict and what was seen.

export interface ProbeResult {
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

export type Probe = (url: string, init?: { method?: string; headers?: Record<string, string>; body?: unknown }) => Promise<ProbeResult>;

export interface Check {
  /** Stable rule name, e.g. "metadata.served" or "Organization.search.identifier". */
  rule: string;
  ok: boolean;
  detail: string;
}
