import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Composition, Resource } from '@medplum/fhirtypes';
import { ipsDocumentProblems } from './ips-profiles.ts';
import { deGrootIps } from '../de-groot-ips.fixture.ts';
import { transcodeSummary } from '../index.ts';

// The IPS document of Patient/$summary for Mr De Groot, before and after transcoding for abroad,
// against the HL7 IPS 2.0.0 profiles (hl7-ips-2.0.0/) with the project's validator: Medplum's
// structure, cardinality, slicing and invariant checks, the R4 required bindings (kit) and the
// profiles' own required bindings. Breaking a profile rule on purpose shows the check can fail.

describe("De Groot's IPS against the HL7 IPS profiles", () => {
  const doc = deGrootIps();

  it('validates as produced by Patient/$summary', () => {
    assert.deepEqual(ipsDocumentProblems(doc), []);
  });

  it('validates after transcoding for a French- and an English-reading country', () => {
    assert.deepEqual(ipsDocumentProblems(transcodeSummary(doc, { country: 'BE', language: 'fr' })), []);
    assert.deepEqual(ipsDocumentProblems(transcodeSummary(doc, { country: 'IE', language: 'en' })), []);
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
    const problems = ipsDocumentProblems(broken).join('\n');
    assert.match(problems, /sectionProblems/);
    assert.match(problems, /performer/);
    assert.match(problems, /results-status-uv-ips/);
    assert.match(problems, /Bundle: .*identifier/);
  });
});
