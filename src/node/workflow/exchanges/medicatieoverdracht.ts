import type { MedicationDispense, MedicationRequest, Patient, Reference, Resource } from '@medplum/fhirtypes';
import { isBuildingBlock, MP9_CATEGORY, treatmentIdentifier, treatmentOf } from './mp9.ts';
import type { WorkflowExchange } from './types.ts';

// Medicatieoverdracht (prescription to the pharmacy, MP9): the Task names a medication
// agreement and a dispense request of one treatment; the pharmacy dispenses and hands back the
// dispense, which carries the same treatment identifier so every overview can merge them.

export const medicatieoverdracht: WorkflowExchange = {
  code: 'medicatieoverdracht',
  checkInputs(resources: Resource[]): string[] {
    const requests = resources.filter((r): r is MedicationRequest => r.resourceType === 'MedicationRequest');
    const agreements = requests.filter((r) => isBuildingBlock(r, 'medicationAgreement'));
    const dispenseRequests = requests.filter((r) => isBuildingBlock(r, 'dispenseRequest'));
    const problems: string[] = [];
    if (agreements.length !== 1) problems.push('a prescription names exactly one medication agreement (MedicationRequest, category 16076005)');
    if (dispenseRequests.length !== 1) problems.push('a prescription names exactly one dispense request (MedicationRequest, category 52711000146108)');
    if (problems.length) return problems;
    const a = treatmentOf(agreements[0]);
    if (!a || a !== treatmentOf(dispenseRequests[0])) problems.push('the medication agreement and the dispense request must carry the same treatment identifier');
    return problems;
  },
  describe(resources: Resource[]): string {
    const a = resources.find((r): r is MedicationRequest => r.resourceType === 'MedicationRequest' && isBuildingBlock(r, 'medicationAgreement'));
    const drug = a?.contained?.find((c) => c.resourceType === 'Medication') as { code?: { text?: string } } | undefined;
    return `Voorschrift${drug?.code?.text ? `: ${drug.code.text}` : ''}`;
  },
};

/**
 * The pharmacy's dispense of a pulled dispense request: same drug, same treatment identifier,
 * for the pharmacy's own patient record; `authorizingPrescription` names the prescriber's request.
 */
export function dispenseFor(request: MedicationRequest, sourceUrl: string, patient: Reference<Patient>, handedOver: string): MedicationDispense {
  const [system, value] = (treatmentOf(request) ?? '').split('|');
  const medication = request.contained?.find((c) => c.resourceType === 'Medication');
  const days = request.dispenseRequest?.expectedSupplyDuration?.value;
  return {
    resourceType: 'MedicationDispense',
    ...(system && value ? { extension: [treatmentIdentifier({ system, value })] } : {}),
    status: 'completed',
    category: { coding: [MP9_CATEGORY.dispense] },
    ...(medication ? { contained: [medication], medicationReference: { reference: `#${medication.id}` } } : { medicationCodeableConcept: request.medicationCodeableConcept }),
    subject: patient,
    authorizingPrescription: [{ reference: sourceUrl }],
    ...(request.dispenseRequest?.quantity ? { quantity: request.dispenseRequest.quantity } : {}),
    ...(days ? { daysSupply: { value: days, unit: 'dag', system: 'http://unitsofmeasure.org', code: 'd' } } : {}),
    whenHandedOver: handedOver,
    dosageInstruction: request.dosageInstruction,
  };
}
