import { isObject } from './concept.ts';
import { TRANSCODED } from './extensions.ts';
import { conceptTerms } from './read.ts';

// Reading a concept of a foreign summary after transcodeIncoming, for the Dutch viewer: the Dutch
// term (when a table had one), the term as the other country wrote it, and the other country's
// own codes, which a clinician may need to look up or to quote back.

export interface IncomingTerms {
  /** The Dutch term; absent when nothing could be translated. */
  dutch?: string;
  /** The other country's text (or its first coding's display). */
  original: string;
  /** The codes as the other country sent them (the coding NCPeH-NL added left out). */
  originalCodes: Array<{ system: string; code: string; display?: string }>;
  /** Why there is no Dutch term, when the concept is marked untranslated. */
  untranslated?: string;
}

export function incomingTerms(concept: unknown): IncomingTerms {
  const terms = conceptTerms(concept, 'nl');
  const codings = isObject(concept) && Array.isArray(concept.coding) ? concept.coding.filter(isObject) : [];
  const originalCodes = codings
    .filter((c) => !(Array.isArray(c.extension) && c.extension.some((e) => isObject(e) && e.url === TRANSCODED)))
    .filter((c) => typeof c.system === 'string' && typeof c.code === 'string')
    .map((c) => ({ system: c.system as string, code: c.code as string, ...(typeof c.display === 'string' ? { display: c.display } : {}) }));
  return {
    ...(terms.translated !== undefined ? { dutch: terms.translated } : {}),
    original: terms.original,
    originalCodes,
    ...(terms.untranslated ? { untranslated: terms.untranslated.reason } : {}),
  };
}
