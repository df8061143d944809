import type { Bundle } from '@medplum/fhirtypes';

// STUB: pass-through. The terminology transcoding (G-Standaard/ATC, SNOMED CT NL, local units
// to the value sets the foreign side expects, original coding kept, translated display) is built
// on branch ncpeh-terms and replaces this file; until then the document leaves with its Dutch
// codes, a copy, unchanged.
export function transcodeSummary(bundle: Bundle, _target: { country: string; language: string }): Bundle {
  return structuredClone(bundle);
}
