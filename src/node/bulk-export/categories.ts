import type { Resource } from '@medplum/fhirtypes';
import type { AgreementsDocument } from '../../trust/contract.ts';
import { dataCategoriesOf } from '../source/response-filter.ts';

// Which of a patient's resources a permit releases. A permit names GF data categories; a resource's
// categories follow from the network's agreements (the allow-lists of every exchange together:
// its type, and for e.g. Observation its category codes), exactly as for care exchanges. A
// resource leaves only when it has a category and every one of them is in the permit: a lab result
// also coded as a vital sign stays home under a permit for laboratory results alone, and a
// resource the agreements give no category (an Observation of an unlisted kind) never leaves.

/** The categories of a resource under the agreements in force (none: not releasable). */
export function researchCategoriesOf(agreements: AgreementsDocument): (resource: Resource) => string[] {
  const all = { queries: agreements.exchanges.flatMap((e) => e.queries) };
  return (resource) => dataCategoriesOf(resource, all);
}

/** True when the permit covers every category of the resource (and it has one). */
export function releasableUnderPermit(categories: readonly string[], permitCategories: readonly string[]): boolean {
  return categories.length > 0 && categories.every((c) => permitCategories.includes(c));
}
