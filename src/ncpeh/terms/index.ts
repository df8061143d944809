import type { Bundle } from '@medplum/fhirtypes';
import { shippedTables } from './tables.ts';
import { failed, transcodeWith } from './transcode.ts';

// Terminology transcoding for the NCPeH (MyHealth@EU): an IPS document built from Dutch holders in,
// the same document out with each clinical concept also in the code the foreign side expects (eHDSI
// master value sets: SNOMED CT international, ATC, LOINC, UCUM), the Dutch coding kept beside it,
// and displays in the target language. Untranslatable items are marked (extension ncpeh-untranslated),
// never dropped. The tables are the ConceptMaps in conceptmaps/. Pure: the input is not changed, the
// result depends only on the input and the tables, and it never throws. A viewer reads a transcoded
// concept back with read.ts conceptTerms; ips/ checks a document against the HL7 IPS profiles (tests).

export function transcodeSummary(bundle: Bundle, target: { country: string; language: string }): Bundle {
  try {
    return transcodeWith(bundle, target, shippedTables());
  } catch (err) {
    return failed(undefined, `Transcoding failed: ${err instanceof Error ? err.message : String(err)}`);
  }
}
