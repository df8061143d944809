import type { Bundle, Resource } from '@medplum/fhirtypes';

// The Basisgegevensset Zorg (BgZ) as sections of zibs: which resource of a merged bgz overview
// belongs to which zib section, and how many each holds. The sections are those the agreements'
// bgz exchange asks for (src/trust/agreements/default-agreements.ts); a section without data is
// listed with zero, so a reader sees "nothing known" rather than a missing heading.

export interface BgzSection {
  zib: string;
  title: { nl: string; en: string };
  resourceType: string;
  /** Observation category code, for the two observation sections. */
  category?: string;
}

export const BGZ_SECTIONS: BgzSection[] = [
  { zib: 'nl.zorg.Patient', title: { nl: 'Patiënt', en: 'Patient' }, resourceType: 'Patient' },
  { zib: 'nl.zorg.Probleem', title: { nl: 'Problemen', en: 'Problems' }, resourceType: 'Condition' },
  { zib: 'nl.zorg.AllergieIntolerantie', title: { nl: 'Allergieën en intoleranties', en: 'Allergies and intolerances' }, resourceType: 'AllergyIntolerance' },
  { zib: 'nl.zorg.Alert', title: { nl: 'Alerts', en: 'Alerts' }, resourceType: 'Flag' },
  { zib: 'nl.zorg.MedicatieGebruik2', title: { nl: 'Medicatiegebruik', en: 'Medication use' }, resourceType: 'MedicationStatement' },
  { zib: 'nl.zorg.Medicatieafspraak', title: { nl: 'Medicatieafspraken', en: 'Medication agreements' }, resourceType: 'MedicationRequest' },
  { zib: 'nl.zorg.Verstrekking', title: { nl: 'Verstrekkingen', en: 'Dispenses' }, resourceType: 'MedicationDispense' },
  { zib: 'nl.zorg.Vaccinatie', title: { nl: 'Vaccinaties', en: 'Immunizations' }, resourceType: 'Immunization' },
  { zib: 'nl.zorg.Bloeddruk', title: { nl: 'Vitale functies (bloeddruk, gewicht, lengte)', en: 'Vital signs' }, resourceType: 'Observation', category: 'vital-signs' },
  { zib: 'nl.zorg.LaboratoriumUitslag', title: { nl: 'Laboratoriumuitslagen', en: 'Laboratory results' }, resourceType: 'Observation', category: 'laboratory' },
  { zib: 'nl.zorg.Verrichting', title: { nl: 'Verrichtingen', en: 'Procedures' }, resourceType: 'Procedure' },
  { zib: 'nl.zorg.Contact', title: { nl: 'Contacten', en: 'Encounters' }, resourceType: 'Encounter' },
  { zib: 'nl.zorg.MedischHulpmiddel', title: { nl: 'Medische hulpmiddelen', en: 'Medical devices' }, resourceType: 'DeviceUseStatement' },
  { zib: 'nl.zorg.Wilsverklaring', title: { nl: 'Wilsverklaringen', en: 'Advance directives' }, resourceType: 'Consent' },
];

function fits(section: BgzSection, r: Resource): boolean {
  if (r.resourceType !== section.resourceType) return false;
  if (!section.category) return true;
  const cats = (r as { category?: Array<{ coding?: Array<{ code?: string }> }> }).category ?? [];
  return cats.some((c) => (c.coding ?? []).some((x) => x.code === section.category));
}

/** Every BgZ section with the number of items the overview holds for it (in section order). */
export function bgzSections(bundle: Bundle): Array<BgzSection & { count: number }> {
  const resources = (bundle.entry ?? []).map((e) => e.resource).filter((r): r is Resource => r !== undefined);
  return BGZ_SECTIONS.map((s) => ({ ...s, count: resources.filter((r) => fits(s, r)).length }));
}
