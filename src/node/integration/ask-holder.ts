import type { Bundle, OperationOutcome, Resource } from '@medplum/fhirtypes';
import { UpstreamError } from '../../kit/http/client.ts';
import { UNNAMED_REFUSALS, withheldReasonOf } from '../source/refusal.ts';
import type { HolderResult, WithheldCategory } from './merge.ts';

// One step of the data-integration pipeline, shared by every exchange that asks holders for one
// patient (the clinician overview, the citizen's own data, the apps on her behalf): address the
// holder, send it one batch of searches before the deadline, and read the answer into a
// HolderResult with, per data category, what was not released and why. The callers differ only
// in how they address (directory replica or national directory) and how they authenticate the
// call (a token carrying the clinician's verklaring, or the citizen's own id_token).

/** A batch of searches and, per entry, the data categories its answer may hold. */
export interface HolderBatch {
  bundle: Bundle;
  categories: string[][];
}

export interface HolderAddress {
  name: string;
  /** Where the batch goes; absent when the holder has no usable endpoint. */
  address?: string;
}

export interface AskHolderInput {
  holder: { ura: string; name?: string };
  batch: HolderBatch;
  deadlineAt: number;
  /** The whole fan-out's deadline, for the reason a timeout gives. */
  deadlineMs: number;
  /** Addressing; counts against the same deadline as the call. Null: the holder is not known. */
  address(): Promise<HolderAddress | null>;
  /** Why there is no address when the lookup gave none in time. */
  noAddressReason: string;
  /** Sends the batch; the answer's status and body, or throws (UpstreamError 504 = too late). */
  send(address: string, batch: Bundle, remainingMs: number): Promise<{ status: number; body: unknown }>;
  /** A failure of `send` that is a refusal (a token the holder's authorisation server refused). */
  refusalOf?(err: unknown): string | undefined;
}

export class PastDeadline extends Error {}

/**
 * Waits for `work` no longer than until `deadlineAt`. The work itself is not cancelled (its calls
 * keep their own deadlines); only the caller stops waiting for it.
 */
export function withinDeadline<T>(work: Promise<T>, deadlineAt: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new PastDeadline()), Math.max(0, deadlineAt - Date.now()));
  });
  work.catch(() => {}); // a late failure of abandoned work is not an unhandled rejection
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}

/** Whether an error means "too late" rather than "broken". */
export function isLate(err: unknown): boolean {
  return err instanceof PastDeadline || (err instanceof UpstreamError && err.status === 504);
}

export function outcomeText(oo: OperationOutcome | undefined, fallback: string): string {
  return oo?.issue?.map((i) => i.diagnostics).filter(Boolean).join('; ') || fallback;
}

/** Reads a holder's batch-response: its resources and, per category asked, what it withheld and why. */
export function readBatchAnswer(answer: Bundle, categories: string[][]): { resources: Resource[]; withheld: WithheldCategory[]; refusals: string[]; choiceOnly: boolean } {
  const resources: Resource[] = [];
  const refusals: string[] = [];
  const withheld: WithheldCategory[] = [];
  let choiceOnly = true;
  const entries = answer.entry ?? [];
  categories.forEach((asked, i) => {
    const e = entries[i];
    const status = e?.response?.status ?? '';
    if (status.startsWith('200')) {
      for (const m of (e.resource as Bundle)?.entry ?? []) if (m.resource) resources.push(m.resource);
      return;
    }
    const oo = e?.resource as OperationOutcome | undefined;
    const coded = status.startsWith('403') ? withheldReasonOf(oo) : undefined;
    const reason: WithheldCategory['reason'] = coded === 'consent-unavailable' ? 'consent-unknown' : (coded ?? (status.startsWith('403') ? 'policy' : 'failed'));
    for (const category of asked) withheld.push({ category, reason });
    // The patient's choice (or a consent that could not be checked) is said per category only, never as this holder's refusal.
    if (coded && UNNAMED_REFUSALS.has(coded)) return;
    choiceOnly = false;
    refusals.push(outcomeText(oo, `HTTP ${status || 'no answer'}`));
  });
  return { resources, withheld, refusals: [...new Set(refusals)], choiceOnly };
}

export async function askHolder(input: AskHolderInput): Promise<HolderResult> {
  const started = Date.now();
  const { holder, batch, deadlineAt } = input;
  const allCategories = [...new Set(input.batch.categories.flat())];
  // Remember why the lookup gave nothing: a timer can fire a millisecond before the clock says so.
  let addressLate = false;
  let addressError: string | undefined;
  const found = await withinDeadline(input.address(), deadlineAt).catch((err) => {
    addressLate = isLate(err);
    addressError = (err as Error).message;
    return null;
  });
  const name = found?.name ?? holder.name ?? `URA ${holder.ura}`;
  const result = (status: HolderResult['status'], reason: string, resources: Resource[] = [], withheld?: WithheldCategory[]): HolderResult => ({
    ura: holder.ura,
    name,
    endpoint: found?.address ?? '',
    status,
    reason,
    resources,
    elapsedMs: Date.now() - started,
    // A holder that answered nothing withheld every category it was asked, for the same reason.
    withheld:
      withheld ?? (status === 'ok' ? [] : allCategories.map((category) => ({ category, reason: status === 'timeout' ? 'timeout' : status === 'refused' ? 'policy' : 'failed' }))),
  });
  if (!found?.address) {
    if (addressLate || Date.now() >= deadlineAt) return result('timeout', 'no address for it within the deadline');
    return result('failed', addressError ? `${input.noAddressReason} (addressing failed: ${addressError})` : input.noAddressReason);
  }
  const remaining = deadlineAt - Date.now();
  if (remaining <= 0) return result('timeout', 'deadline passed before the call');
  try {
    const r = await input.send(found.address, batch.bundle, remaining);
    if (r.status === 401 || r.status === 403) return result('refused', outcomeText(r.body as OperationOutcome, `HTTP ${r.status}`));
    if (r.status !== 200 || (r.body as Bundle)?.resourceType !== 'Bundle') {
      return result('failed', `HTTP ${r.status}: ${outcomeText(r.body as OperationOutcome, 'unexpected answer')}`);
    }
    const read = readBatchAnswer(r.body as Bundle, batch.categories);
    const why = read.refusals.join('; ');
    if (read.resources.length === 0 && read.withheld.length > 0) return result(read.choiceOnly ? 'withheld' : 'refused', why, [], read.withheld);
    return result('ok', why, read.resources, read.withheld);
  } catch (err) {
    const refusal = input.refusalOf?.(err);
    if (refusal) return result('refused', refusal);
    if (err instanceof UpstreamError && err.status === 504) return result('timeout', `no answer within ${input.deadlineMs} ms`);
    return result('failed', (err as Error).message);
  }
}
