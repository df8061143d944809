import type { AgreementsDocument, ExchangeDefinition } from './types.ts';

// Finding an exchange in the agreements, written once: by its code, or by the scopes an access
// token carries (a holder learns the exchange from the token it is shown, never from the caller).

/** The exchange with this code, if the agreements offer it. */
export function exchangeByCode(doc: Pick<AgreementsDocument, 'exchanges'>, code: string | undefined): ExchangeDefinition | undefined {
  return code === undefined ? undefined : doc.exchanges.find((e) => e.code === code);
}

/** The exchange one of these scopes belongs to (a token carries the scope of one exchange). */
export function exchangeOfScopes(doc: Pick<AgreementsDocument, 'exchanges'>, scopes: Iterable<string>): ExchangeDefinition | undefined {
  const held = new Set(scopes);
  return doc.exchanges.find((e) => e.scopes.some((s) => held.has(s)));
}
