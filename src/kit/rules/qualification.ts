// "Qualified at time T": the one rule every part applies to a participant's qualification for an
// exchange (token scopes at the trust part and at nodes, the NVI's exchange header, the PDP, the
// notified-pull sender and receiver).
//
// The window is half-open, [validFrom, validUntil): a qualification counts from its first instant
// and no longer at its end. That is how the trust register withdraws one (`valid_until = now()`
// and a later read at that same instant must already refuse), and it keeps two windows that
// touch (one ends as the next begins) from both counting at the seam. An absent bound is open.

/** A qualification's validity window as the register publishes it (ISO 8601 instants). */
export interface ValidityWindow {
  validFrom?: string | null;
  validUntil?: string | null;
}

/** A qualification as the parts carry it: the register's wire shape names the exchange `qualification`, a node's view `code`. */
export type HeldQualification = string | (ValidityWindow & ({ code: string } | { qualification: string }));

const instant = (at: Date | number): number => (typeof at === 'number' ? at : at.getTime());

/** Whether the window includes `at`; an unreadable bound counts as not valid (deny on error). */
export function validAt(window: ValidityWindow, at: Date | number): boolean {
  const t = instant(at);
  if (window.validFrom) {
    const from = Date.parse(window.validFrom);
    if (Number.isNaN(from) || t < from) return false;
  }
  if (window.validUntil) {
    const until = Date.parse(window.validUntil);
    if (Number.isNaN(until) || t >= until) return false;
  }
  return true;
}

function codeOf(q: Exclude<HeldQualification, string>): string {
  return 'code' in q ? q.code : q.qualification;
}

/** Whether `held` includes a qualification for `code` that is valid at `at`. A bare code (older PDP input) has no window. */
export function qualifiedAt(held: readonly HeldQualification[], code: string, at: Date | number): boolean {
  return held.some((q) => (typeof q === 'string' ? q === code : codeOf(q) === code && validAt(q, at)));
}
