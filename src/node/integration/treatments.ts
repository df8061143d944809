import type { MedicationRequest, Resource } from '@medplum/fhirtypes';
import { isBuildingBlock, treatmentOf } from '../workflow/exchanges/mp9.ts';

// Medication by treatment (MP9): a prescriber's medication agreement is what the patient is
// meant to take, and a newer agreement of the same treatment (a change of dose, a stop)
// supersedes the earlier one. So when an overview item holds agreements, the newest of them
// stands for the item, over a record of use or a dispense of the same drug.

/** The treatment of a medication agreement, or undefined for anything else. */
export function agreementTreatment(r: Resource): string | undefined {
  if (r.resourceType !== 'MedicationRequest' || !isBuildingBlock(r, 'medicationAgreement')) return undefined;
  return treatmentOf(r);
}

/**
 * Whether `candidate` supersedes `current` as the item's representative by treatment rules;
 * undefined when neither is a medication agreement of a treatment (the general rules apply).
 */
export function supersedesByTreatment(candidate: Resource, current: Resource): boolean | undefined {
  const a = agreementTreatment(candidate);
  const b = agreementTreatment(current);
  if (!a && !b) return undefined;
  if (a && !b) return true;
  if (!a && b) return false;
  return ((candidate as MedicationRequest).authoredOn ?? '') > ((current as MedicationRequest).authoredOn ?? '');
}
