// The data categories a localization List may carry are the GF value set nl-gf-zorgcontext-vs,
// kept once for the network in kit/fhir/profiles/gf-codes.ts (ZORGCONTEXT_CODES); the NVI adds the
// categories the agreements' exchanges name. What stays here is the NVI's own input guard.

/** Category codes are short identifiers; anything else is refused before it reaches SQL or logs. */
export function isCategoryToken(code: string): boolean {
  return /^[A-Za-z][A-Za-z0-9-]{0,63}$/.test(code);
}
