// The pseudonymised subject identifier a holder sends to a recipient (GF IG NviIdentifier):
// base64url of JSON {evaluated_output: <JWE from the PRS>, blind_factor: <base64url scalar>}.

export interface PseudonymToken {
  /** Compact JWE from the PRS. */
  evaluatedOutput: string;
  /** 32-byte blind scalar. */
  blindFactor: Uint8Array;
}

const MAX_LENGTH = 16_384;
const COMPACT_JWE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
const BASE64URL = /^[A-Za-z0-9_-]+$/;

export function encodePseudonymToken(token: PseudonymToken): string {
  const json = JSON.stringify({ evaluated_output: token.evaluatedOutput, blind_factor: Buffer.from(token.blindFactor).toString('base64url') });
  return Buffer.from(json, 'utf8').toString('base64url');
}

/** Strict decoder: returns null for anything that is not a well-formed token (never throws). */
export function decodePseudonymToken(value: unknown): PseudonymToken | null {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_LENGTH || !BASE64URL.test(value)) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(value, 'base64url').toString('utf8'));
  } catch {
    return null;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return null;
  const { evaluated_output, blind_factor } = parsed as Record<string, unknown>;
  if (typeof evaluated_output !== 'string' || !COMPACT_JWE.test(evaluated_output)) return null;
  if (typeof blind_factor !== 'string' || !BASE64URL.test(blind_factor)) return null;
  const blind = Buffer.from(blind_factor, 'base64url');
  if (blind.length !== 32) return null;
  return { evaluatedOutput: evaluated_output, blindFactor: new Uint8Array(blind) };
}

/** A plain BSN-looking value (9 digits, possibly "system|"-prefixed already stripped): refuse and never log. */
export function looksLikeBsn(value: string): boolean {
  return /^\s*\d{8,9}\s*$/.test(value);
}
