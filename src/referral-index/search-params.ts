import { servedKeys } from '../kit/fhir/capability.ts';
import { badRequest } from '../kit/fhir/outcome.ts';
import type { SearchParamDeclaration } from '../kit/part.ts';
import { CODE_SYSTEM, SYSTEM } from '../kit/identifiers/systems.ts';
import { looksLikeBsn } from '../pseudonyms/contract.ts';
import { isCategoryToken } from './data-categories.ts';

/** The List search as declared in the CapabilityStatement; the search accepts exactly NVI_SEARCH_KEYS. */
export const NVI_SEARCH_PARAMS: SearchParamDeclaration[] = [
  { name: 'subject', type: 'reference', documentation: 'With the :identifier modifier only: subject:identifier=<NVI identifier system>|<PRS-sealed pseudonym token>' },
  { name: 'code', type: 'token', documentation: 'Data category (GF data categories)' },
  { name: 'source', type: 'reference', documentation: 'With the :identifier modifier only: source:identifier=<OAuth client id system>|<client id>, own referrals' },
];
export const NVI_SEARCH_KEYS = servedKeys(NVI_SEARCH_PARAMS);

// Token search parameters of the NVI. A plain BSN where a pseudonym belongs is refused with 400,
// and neither this code nor its error message repeats the value.

function splitToken(raw: string): { system?: string; value: string } {
  const bar = raw.indexOf('|');
  return bar < 0 ? { value: raw } : { system: raw.slice(0, bar), value: raw.slice(bar + 1) };
}

/** `subject:identifier=<nvi-identifier system>|<token>` → the token value. */
export function parseSubjectParam(raw: string | undefined): string {
  if (!raw) throw badRequest('subject:identifier is required', ['subject:identifier']);
  const { system, value } = splitToken(raw);
  if (system === SYSTEM.bsn || looksLikeBsn(value)) {
    throw badRequest('a plain BSN is never accepted here: pseudonymise it with the PRS first (the value was not logged)', ['subject:identifier']);
  }
  if (system !== undefined && system !== SYSTEM.nviIdentifier) throw badRequest(`subject:identifier system must be ${SYSTEM.nviIdentifier}`, ['subject:identifier']);
  if (!value) throw badRequest('subject:identifier has no value', ['subject:identifier']);
  return value;
}

/** `code=<data categories system>|<code>` (system optional) → the category code. */
export function parseCodeParam(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  const { system, value } = splitToken(raw);
  if (system !== undefined && system !== CODE_SYSTEM.dataCategories) throw badRequest(`code system must be ${CODE_SYSTEM.dataCategories}`, ['code']);
  if (!isCategoryToken(value)) throw badRequest('code must be a data category code', ['code']);
  return value;
}

/** `source:identifier=<oauth-client-id system>|<client id>` → the client id. */
export function parseSourceParam(raw: string): string {
  const { system, value } = splitToken(raw);
  if (system !== undefined && system !== SYSTEM.oauthClientId) throw badRequest(`source:identifier system must be ${SYSTEM.oauthClientId}`, ['source:identifier']);
  if (!/^[\x21-\x7e]{1,128}$/.test(value)) throw badRequest('source:identifier must be a client id', ['source:identifier']);
  return value;
}
