import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Bundle, Composition, OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import { loadIpsProfiles, profileFor, validateAgainstIps } from './ips-profiles.ts';
import { validateResource } from '../../../kit/fhir/validate.ts';
import { deGrootIps } from '../de-groot-ips.ts';
import { transcodeSummary } from '../index.ts';

// The IPS document of Patient/$summary for Mr De Groot, before and after transcoding for abroad,
// against the HL7 IPS 2.0.0 profiles (hl7-ips-2.0.0/) with the project's validator: Medplum's
// structure, cardinality, slicing and invariant checks, the R4 required bindings (kit) and the
// profiles' own required bindings. Breaking a profile rule on purpose shows the check can fail.

type Json = Record<string, unknown>;
const BUNDLE = 'http://hl7.org/fhir/uv/ips/StructureDefinition/Bundle-uv-ips';

function describeIssue(where: string, i: OperationOutcomeIssue): string {
  return `${where}: ${i.details?.text ?? i.diagnostics} ${i.expression?.join(',') ?? ''}`;
}

/** Every problem of the document as an IPS: the Bundle, each entry and each contained resource. */
function ipsProblems(doc: Bundle): string[] {
  loadIpsProfiles();
  const problems = validateAgainstIps(doc as unknown as Json, BUNDLE).map((i) => describeIssue('Bundle', i));
  problems.push(...validateResource(doc).map((i) => describeIssue('Bundle (R4)', i)));
  const entries = doc.entry ?? [];
  // The Bundle profile's entry slices, which Medplum cannot match (see ips-profiles.ts).
  if (entries[0]?.resource?.resourceType !== 'Composition')
    problems.push('the first entry must be the Composition');
  if (entries.filter((e) => e.resource?.resourceType === 'Patient').length !== 1)
    problems.push('exactly one Patient entry');
  for (const [n, e] of entries.entries()) {
    const r = e.resource as unknown as Json;
    const profile = profileFor(r);
    if (!profile) {
      problems.push(`entry ${n} (${String(r.resourceType)}) has no IPS profile`);
      continue;
    }
    problems.push(
      ...validateAgainstIps(r, profile).map((i) => describeIssue(`entry ${n} ${String(r.resourceType)}`, i)),
    );
    for (const c of (r.contained ?? []) as Json[]) {
      const cp = profileFor(c);
      if (cp)
        problems.push(
          ...validateAgainstIps(c, cp).map((i) =>
            describeIssue(`entry ${n} contained ${String(c.resourceType)}`, i),
          ),
        );
    }
  }
  return problems;
}

describe("De Groot's IPS against the HL7 IPS profiles", () => {
  const doc = deGrootIps();

  it('validates as produced by Patient/$summary', () => {
    assert.deepEqual(ipsProblems(doc), []);
  });

  it('validates after transcoding for a French- and an English-reading country', () => {
    assert.deepEqual(ipsProblems(transcodeSummary(doc, { country: 'BE', language: 'fr' })), []);
    assert.deepEqual(ipsProblems(transcodeSummary(doc, { country: 'IE', language: 'en' })), []);
  });

  it('fails a document that breaks the profiles (so the check can fail)', () => {
    const broken = structuredClone(doc);
    const composition = broken.entry?.[0].resource as Composition;
    composition.section = composition.section?.filter((s) => s.code?.coding?.[0].code !== '11450-4'); // no problem list
    const lab = broken.entry?.find((e) => JSON.stringify(e.resource).includes('"laboratory"'))
      ?.resource as Resource & { performer?: unknown; status: string };
    delete lab.performer;
    lab.status = 'entered-in-error'; // outside the IPS results-status value set
    delete broken.identifier;
    const problems = ipsProblems(broken).join('\n');
    assert.match(problems, /sectionProblems/);
    assert.match(problems, /performer/);
    assert.match(problems, /results-status-uv-ips/);
    assert.match(problems, /Bundle: .*identifier/);
  });
});
