import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { checkRequiredBindings, codeSystemCodes, expandValueSet, expansionHas } from './bindings.ts';
import { loadFhirDefinitions, validateResource } from './validate.ts';

before(() => loadFhirDefinitions());

const expressions = (r: { resourceType: string }) => checkRequiredBindings(r).map((i) => i.expression?.[0]);

describe('expandValueSet', () => {
  it('expands a value set that includes a whole shipped code system', () => {
    const gender = expandValueSet('http://hl7.org/fhir/ValueSet/administrative-gender|4.0.1');
    assert.ok(gender);
    for (const code of ['male', 'female', 'other', 'unknown']) assert.ok(expansionHas(gender, 'http://hl7.org/fhir/administrative-gender', code));
    assert.equal(expansionHas(gender, undefined, 'mannelijk'), false);
    assert.equal(expansionHas(gender, 'http://example.org/other', 'male'), false);
  });

  it('returns undefined for value sets over external code systems (they are skipped, not failed)', () => {
    assert.equal(expandValueSet('http://hl7.org/fhir/ValueSet/mimetypes'), undefined);
    assert.equal(expandValueSet('http://hl7.org/fhir/ValueSet/all-languages'), undefined);
    assert.equal(expandValueSet('http://example.org/ValueSet/not-shipped'), undefined);
  });

  it('knows complete shipped code systems only', () => {
    assert.ok(codeSystemCodes('http://terminology.hl7.org/CodeSystem/endpoint-connection-type')?.has('hl7-fhir-rest'));
    assert.equal(codeSystemCodes('http://snomed.info/sct'), undefined);
  });
});

describe('checkRequiredBindings', () => {
  it('rejects a Patient.gender outside administrative-gender', () => {
    assert.deepEqual(expressions({ resourceType: 'Patient', gender: 'mannelijk' } as never), ['Patient.gender']);
    assert.deepEqual(expressions({ resourceType: 'Patient', gender: 'female' } as never), []);
  });

  it('rejects an Observation.status outside observation-status', () => {
    const issues = validateResource({ resourceType: 'Observation', status: 'bogus', code: { text: 'pulse' } });
    assert.deepEqual(issues.map((i) => i.expression?.[0]), ['Observation.status']);
    assert.equal(issues[0].code, 'code-invalid');
    assert.match(issues[0].diagnostics ?? '', /bogus.*observation-status/);
  });

  it('looks inside data types, backbone elements, contained and bundled resources', () => {
    const patient = {
      resourceType: 'Patient',
      identifier: [{ use: 'official' }, { use: 'bogus' }],
      telecom: [{ system: 'pigeon', value: 'x' }],
      contact: [{ name: { family: 'X' }, gender: 'x' }],
      contained: [{ resourceType: 'Organization', identifier: [{ use: 'nope' }] }],
    };
    assert.deepEqual(expressions(patient as never).sort(), [
      'Patient.contact[0].gender',
      'Patient.contained[0].identifier[0].use',
      'Patient.identifier[1].use',
      'Patient.telecom[0].system',
    ]);
    const bundle = { resourceType: 'Bundle', type: 'collection', entry: [{ resource: { resourceType: 'Patient', gender: 'q' } }] };
    assert.deepEqual(expressions(bundle as never), ['Bundle.entry[0].resource.gender']);
    assert.deepEqual(expressions({ resourceType: 'Bundle', type: 'bogus' } as never), ['Bundle.type']);
  });

  it('checks required CodeableConcept bindings by coding', () => {
    const condition = (clinicalStatus: unknown) => ({ resourceType: 'Condition', subject: { reference: 'Patient/1' }, clinicalStatus });
    const active = { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] };
    assert.deepEqual(expressions(condition(active) as never), []);
    const wrong = { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'actief' }] };
    assert.deepEqual(expressions(condition(wrong) as never), ['Condition.clinicalStatus']);
    assert.deepEqual(expressions(condition({ text: 'active' }) as never), ['Condition.clinicalStatus']);
  });

  it('checks choice-type properties (Extension.valueIdentifier.use)', () => {
    const patient = { resourceType: 'Patient', extension: [{ url: 'http://example.org/x', valueIdentifier: { use: 'weird' } }] };
    assert.deepEqual(expressions(patient as never), ['Patient.extension[0].valueIdentifier.use']);
  });

  it('skips bindings it cannot expand (Attachment.contentType is bound to BCP-13 MIME types)', () => {
    const doc = {
      resourceType: 'DocumentReference',
      status: 'current',
      content: [{ attachment: { contentType: 'application/x-made-up' } }],
    };
    assert.deepEqual(expressions(doc as never), []);
  });
});

describe('complex-type shape', () => {
  it('rejects numbers and booleans where a complex type belongs (Medplum lets them through)', () => {
    const endpoint = { resourceType: 'Endpoint', status: 'active', connectionType: 42, payloadType: [true], address: 'https://x' };
    assert.deepEqual(expressions(endpoint as never), ['Endpoint.connectionType', 'Endpoint.payloadType[0]']);
    const bundle = { resourceType: 'Bundle', type: 'collection', entry: [{ resource: 42 }] };
    assert.deepEqual(expressions(bundle as never), ['Bundle.entry[0].resource']);
  });
});
