import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import fc from 'fast-check';
import { PROFILE } from '../identifiers/systems.ts';
import { HttpError } from './outcome.ts';
import { loadGfExamples } from './profiles/examples.ts';
import { assertValidResource, loadFhirDefinitions, validateResource } from './validate.ts';

before(() => loadFhirDefinitions());

const patient = { resourceType: 'Patient', name: [{ family: 'de Groot', given: ['Jan'] }], gender: 'male', birthDate: '1950-03-01' };

function statusOf(fn: () => unknown): number | 'ok' {
  try {
    fn();
    return 'ok';
  } catch (err) {
    assert.ok(err instanceof HttpError, `expected HttpError, got ${String(err)}`);
    return err.status;
  }
}

describe('validateResource (base R4)', () => {
  it('accepts a valid Patient with no issues', () => {
    assert.deepEqual(validateResource(patient), []);
  });

  it('reports Medplum structure errors with diagnostics and expressions instead of throwing', () => {
    const issues = validateResource({ ...patient, birthDate: 'yesterday', shoeSize: 44 });
    const byExpression = new Map(issues.map((i) => [i.expression?.[0], i]));
    assert.ok(byExpression.has('Patient.birthDate'));
    assert.ok(byExpression.has('Patient.shoeSize'));
    for (const i of issues) assert.ok(i.diagnostics && i.severity === 'error');
  });

  it('reports missing required elements (Observation.status, Observation.code)', () => {
    const issues = validateResource({ resourceType: 'Observation' });
    assert.deepEqual(issues.map((i) => i.expression?.[0]).sort(), ['Observation.code', 'Observation.status']);
  });

  it('says what is wrong with non-resources', () => {
    assert.equal(validateResource(null)[0].code, 'structure');
    assert.equal(validateResource([patient])[0].code, 'structure');
    assert.equal(validateResource({ name: 'x' })[0].code, 'required');
    assert.equal(validateResource({ resourceType: 'Nope' })[0].code, 'not-supported');
    assert.equal(validateResource({ resourceType: 'HumanName' })[0].code, 'not-supported');
    assert.equal(validateResource({ resourceType: 'DomainResource' })[0].code, 'not-supported');
  });

  it('applies profiles from options.profiles and from meta.profile, ignores unknown claimed ones', () => {
    const list = { resourceType: 'List', status: 'current', mode: 'working' };
    assert.deepEqual(validateResource(list), []);
    assert.ok(validateResource(list, { profiles: [PROFILE.localizationList] }).length > 0);
    assert.ok(validateResource({ ...list, meta: { profile: [PROFILE.localizationList] } }).length > 0);
    assert.deepEqual(validateResource({ ...list, meta: { profile: ['http://example.org/StructureDefinition/other'] } }), []);
    const unknown = validateResource(list, { profiles: ['http://example.org/StructureDefinition/other'] });
    assert.deepEqual(unknown.map((i) => i.code), ['not-supported']);
  });

  it('validates every GF IG example cleanly against R4 and its profile, by option and by meta.profile', () => {
    for (const { file, profile, resource } of loadGfExamples()) {
      assert.deepEqual(validateResource(resource, { profiles: [profile] }), [], file);
      assert.deepEqual(validateResource({ ...resource, meta: { profile: [profile] } }), [], file);
    }
  });
});

describe('assertValidResource', () => {
  it('returns the resource when valid', () => {
    assert.equal(assertValidResource(patient, { expectedType: 'Patient' }), patient);
  });

  it('400 for bodies that are not resources, unknown types, or another type than expected', () => {
    for (const body of [undefined, null, 'Patient', 42, [], [patient], {}, { resourceType: 7 }, { resourceType: '' }]) {
      assert.equal(statusOf(() => assertValidResource(body)), 400, JSON.stringify(body));
    }
    assert.equal(statusOf(() => assertValidResource({ resourceType: 'Nope' })), 400);
    assert.equal(statusOf(() => assertValidResource(patient, { expectedType: 'List' })), 400);
  });

  it('400 for an unknown resourceType carries not-supported and the expression', () => {
    try {
      assertValidResource({ resourceType: 'Nope' });
      assert.fail('should throw');
    } catch (err) {
      assert.ok(err instanceof HttpError);
      assert.equal(err.outcome.issue?.[0].code, 'not-supported');
      assert.deepEqual(err.outcome.issue?.[0].expression, ['resourceType']);
    }
  });

  it('422 with every issue when validation fails', () => {
    try {
      assertValidResource({ resourceType: 'Patient', gender: 'mannelijk', birthDate: 'x' });
      assert.fail('should throw');
    } catch (err) {
      assert.ok(err instanceof HttpError);
      assert.equal(err.status, 422);
      const expressions = err.outcome.issue?.map((i) => i.expression?.[0]).sort();
      assert.deepEqual(expressions, ['Patient.birthDate', 'Patient.gender']);
      assert.match(err.message, /Patient failed validation/);
    }
  });
});

describe('validateResource properties', () => {
  const resourceTypes = ['Patient', 'Observation', 'List', 'Organization', 'Endpoint', 'Bundle', 'Condition', 'Nope'];
  const resourceLike = fc
    .tuple(fc.constantFrom(...resourceTypes), fc.dictionary(fc.string(), fc.jsonValue()))
    .map(([resourceType, rest]) => ({ ...rest, resourceType }));
  const known = fc.constantFrom(PROFILE.localizationList, PROFILE.organization, PROFILE.endpoint, 'urn:x');

  it('never throws on arbitrary JSON: always an array of error issues', () => {
    fc.assert(
      fc.property(fc.oneof(fc.jsonValue(), resourceLike), fc.array(known, { maxLength: 2 }), (value, profiles) => {
        const issues = validateResource(value, { profiles });
        assert.ok(Array.isArray(issues));
        for (const i of issues) assert.ok(i.severity === 'error' || i.severity === 'fatal');
      }),
      { numRuns: 400 },
    );
  });

  it('assertValidResource throws only HttpError 400/422 on arbitrary JSON', () => {
    fc.assert(
      fc.property(fc.oneof(fc.jsonValue(), resourceLike), (value) => {
        const status = statusOf(() => assertValidResource(value));
        assert.ok(status === 'ok' || status === 400 || status === 422, String(status));
      }),
      { numRuns: 400 },
    );
  });

  it('survives JSON text with hostile keys and deep nesting', () => {
    const hostile = JSON.parse('{"resourceType":"Patient","__proto__":{"x":1},"constructor":1,"identifier":[{"__proto__":null}]}');
    assert.ok(Array.isArray(validateResource(hostile)));
    let deep: Record<string, unknown> = { resourceType: 'Patient' };
    for (let i = 0; i < 2000; i++) deep = { resourceType: 'Bundle', type: 'collection', entry: [{ resource: deep }] };
    assert.ok(Array.isArray(validateResource(deep)));
  });
});
