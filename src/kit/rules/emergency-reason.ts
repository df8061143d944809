// Break-the-glass needs a stated reason. One rule for what counts as one, applied by the portal
// form, the requesting node (before any holder is asked) and every holder's PDP, so a reason one
// of them takes is never refused by the next.

/** Shortest (trimmed) reason the policy accepts: "pijn" or "n/a" is not a reason. */
export const MIN_REASON_LENGTH = 5;
/** Longest reason: it travels in a header to every holder and into every audit record. */
export const MAX_REASON_LENGTH = 500;

/** The reason, trimmed, if the policy accepts it; undefined otherwise. */
export function acceptedEmergencyReason(reason: unknown): string | undefined {
  if (typeof reason !== 'string') return undefined;
  const text = reason.trim();
  return text.length >= MIN_REASON_LENGTH && text.length <= MAX_REASON_LENGTH ? text : undefined;
}

/** What a person is told when a reason is refused (the header's or form's name is the caller's). */
export const EMERGENCY_REASON_RULE = `a reason of at least ${MIN_REASON_LENGTH} characters (at most ${MAX_REASON_LENGTH})`;
