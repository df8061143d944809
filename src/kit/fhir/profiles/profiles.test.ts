import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import fc from 'fast-check';
import { PROFILE, SYSTEM } from '../../identifiers/systems.ts';
import { loadFhirDefinitions, validateResource } from '../validate.ts';
import { loadGfExamples, SAMPLE_PSEUDONYM_TOKEN } from './examples.ts';
import { custodianAssignedIdentifier, isPseudonymToken, KNOWN_PROFILES, validateAgainstProfile } from './index.ts';

before(() => loadFhirDefinitions());

type Json = Record<string, unknown>;
const examples = loadGfExamples();
const example = (file: string): Json => structuredClone(examples.find((e) => e.file === file)!.resource);
const LIST = 'localization-list.json';
const ORG = 'directory-organization-gp.json';
const ENDPOINT = 'directory-endpoint-gp-fhir-r4.json';
const AFFILIATION = 'directory-affiliation-gp-vendor.json';

/** Expressions of the profile issues after `mutate` changes a fresh copy of an example. */
function brokenExpressions(file: string, profile: string, mutate: (r: Json) => void): string[] {
  const r = example(file);
  mutate(r);
  return validateAgainstProfile(r, profile).map((i) => i.expression?.[0] ?? '');
}

describe('GF IG examples', () => {
  it('every example conforms to its profile', () => {
    assert.equal(examples.length, 7);
    for (const { file, profile, resource } of examples) {
      assert.ok(profile, `no profile for ${file}`);
      assert.deepEqual(validateAgainstProfile(resource, profile), [], file);
    }
  });

  it('the localization example as published fails only on its placeholder pseudonym (see fixtures README)', () => {
    const asPublished = loadGfExamples({ keepPlaceholder: true }).find((e) => e.file === LIST)!;
    const issues = validateAgainstProfile(asPublished.resource, PROFILE.localizationList);
    assert.deepEqual(issues.map((i) => i.expression?.[0]), ['List.subject.identifier.value']);
  });
});

describe('nl-gf-localization-list', () => {
  const broken = (mutate: (r: Json) => void) => brokenExpressions(LIST, PROFILE.localizationList, mutate);
  it('fixed status, mode and emptyReason', () => {
    assert.deepEqual(broken((r) => { r.status = 'retired'; }), ['List.status']);
    assert.deepEqual(broken((r) => { r.mode = 'snapshot'; }), ['List.mode']);
    assert.deepEqual(broken((r) => { delete r.emptyReason; }), ['List.emptyReason']);
  });
  it('code from the patient data categories', () => {
    assert.deepEqual(broken((r) => { delete r.code; }), ['List.code']);
    assert.deepEqual(broken((r) => { r.code = { coding: [{ system: 'http://loinc.org', code: '1234-5' }] }; }), ['List.code']);
    // CareServiceEntities is a data category but not about a patient (not in nl-gf-zorgcontext-vs).
    assert.deepEqual(broken((r) => { (r.code as { coding: Json[] }).coding[0].code = 'CareServiceEntities'; }), ['List.code']);
  });
  it('subject by NVI pseudonym only', () => {
    assert.deepEqual(broken((r) => { (r.subject as Json).reference = 'Patient/1'; }), ['List.subject.reference']);
    assert.deepEqual(broken((r) => { ((r.subject as Json).identifier as Json).system = SYSTEM.bsn; }), ['List.subject.identifier.system']);
    assert.deepEqual(broken((r) => { r.subject = { reference: 'Patient/1' }; }), ['List.subject.reference', 'List.subject.identifier']);
  });
  it('exactly one custodian extension with a URA identifier', () => {
    assert.deepEqual(broken((r) => { delete r.extension; }), ['List.extension']);
    assert.deepEqual(broken((r) => { r.extension = [...(r.extension as Json[]), ...(r.extension as Json[])]; }), ['List.extension']);
    assert.deepEqual(
      broken((r) => { ((r.extension as Json[])[0].valueReference as Json).identifier = { system: SYSTEM.kvk, value: '1' }; }),
      ['List.extension[0].valueReference.identifier'],
    );
  });
  it('source is the OAuth client id; no entries, notes, title or contained', () => {
    assert.deepEqual(broken((r) => { r.source = { identifier: { system: SYSTEM.ura, value: 'x' } }; }), ['List.source.identifier']);
    assert.deepEqual(broken((r) => { r.entry = [{ item: { reference: 'Condition/1' } }]; }), ['List.entry']);
    assert.deepEqual(broken((r) => { r.note = [{ text: 'x' }]; r.title = 't'; }), ['List.title', 'List.note']);
  });
  it('recognises pseudonym tokens', () => {
    assert.ok(isPseudonymToken(SAMPLE_PSEUDONYM_TOKEN));
    assert.equal(isPseudonymToken('999999990'), false);
    assert.equal(isPseudonymToken(Buffer.from('{"evaluated_output":"x"}').toString('base64url')), false);
  });
});

describe('directory profiles', () => {
  it('nl-gf-organization: name, type, URA/KvK or partOf, custodian-assigned identifier', () => {
    const broken = (mutate: (r: Json) => void) => brokenExpressions(ORG, PROFILE.organization, mutate);
    assert.deepEqual(broken((r) => { delete r.name; }), ['Organization.name']);
    assert.deepEqual(broken((r) => { r.type = []; }), ['Organization.type']);
    assert.deepEqual(broken((r) => { r.implicitRules = 'http://x'; }), ['Organization.implicitRules']);
    assert.deepEqual(broken((r) => { r.identifier = []; }), ['Organization.identifier', 'Organization']);
    const sub = brokenExpressions(ORG, PROFILE.organization, (r) => {
      r.identifier = [custodianAssignedIdentifier('urn:ietf:rfc:3986', 'urn:uuid:1', { system: SYSTEM.ura, value: '11111111' })];
      r.partOf = { reference: 'Organization/parent' };
    });
    assert.deepEqual(sub, []);
  });

  it('custodian-assigned identifier problems are named element by element', () => {
    const at = (mutate: (id: Json) => void) =>
      brokenExpressions(ORG, PROFILE.organization, (r) => mutate((r.identifier as Json[])[0]));
    assert.deepEqual(at((id) => { id.use = 'usual'; }), ['Organization.identifier[0].use']);
    assert.deepEqual(
      at((id) => { ((id.assigner as Json).identifier as Json).system = SYSTEM.agb; }),
      ['Organization.identifier[0].assigner.identifier.system'],
    );
    assert.deepEqual(
      at((id) => { ((id.assigner as Json).identifier as Json).type = { coding: [{ code: 'author' }] }; }),
      ['Organization.identifier[0].assigner.identifier.type'],
    );
    const twice = brokenExpressions(ORG, PROFILE.organization, (r) => {
      r.identifier = [(r.identifier as Json[])[0], (r.identifier as Json[])[0]];
    });
    assert.deepEqual(twice, ['Organization.identifier']);
  });

  it('nl-gf-endpoint: managingOrganization and known connection and payload types', () => {
    const broken = (mutate: (r: Json) => void) => brokenExpressions(ENDPOINT, PROFILE.endpoint, mutate);
    assert.deepEqual(broken((r) => { delete r.managingOrganization; }), ['Endpoint.managingOrganization']);
    assert.deepEqual(broken((r) => { (r.connectionType as Json).code = 'carrier-pigeon'; }), ['Endpoint.connectionType']);
    assert.deepEqual(broken((r) => { r.connectionType = { system: 'http://minvws.github.io/generiekefuncties-docs/CodeSystem/nl-gf-authorization-server-cs', code: 'oauth2' }; }), []);
    assert.deepEqual(broken((r) => { ((r.payloadType as Json[])[0].coding as Json[])[0].code = 'Gossip'; }), ['Endpoint.payloadType[0]']);
    assert.deepEqual(broken((r) => { r.payloadType = [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/endpoint-payload-type', code: 'any' }] }]; }), []);
  });

  it('nl-gf-organizationaffiliation: active, parties, mandate code, no network', () => {
    const broken = (mutate: (r: Json) => void) => brokenExpressions(AFFILIATION, PROFILE.organizationAffiliation, mutate);
    assert.deepEqual(broken((r) => { delete r.participatingOrganization; }), ['OrganizationAffiliation.participatingOrganization']);
    assert.deepEqual(broken((r) => { delete r.active; }), ['OrganizationAffiliation.active']);
    assert.deepEqual(broken((r) => { r.network = [{ reference: 'Organization/n' }]; }), ['OrganizationAffiliation.network']);
    assert.deepEqual(broken((r) => { r.code = [{ text: 'admin' }]; }), ['OrganizationAffiliation.code']);
    assert.deepEqual(broken((r) => { delete r.code; }), ['OrganizationAffiliation.code']);
  });

  it('nl-gf-location and nl-gf-healthcareservice require their elements', () => {
    const id = custodianAssignedIdentifier('urn:ietf:rfc:3986', 'urn:uuid:2', { system: SYSTEM.ura, value: '11111111' });
    const location = {
      resourceType: 'Location', identifier: [id], status: 'active', name: 'Praktijk', type: [{ text: 'praktijk' }],
      managingOrganization: { reference: 'Organization/8e18530e-2ce1-5dc2-b34b-7d5de91a5c07' },
    };
    assert.deepEqual(validateResource(location, { profiles: [PROFILE.location] }), []);
    const { managingOrganization: _m, status: _s, ...bare } = location;
    assert.deepEqual(validateAgainstProfile(bare, PROFILE.location).map((i) => i.expression?.[0]), ['Location.status', 'Location.managingOrganization']);
    const service = { resourceType: 'HealthcareService', identifier: [id], name: 'Huisartsenzorg', type: [{ text: 'GP' }], providedBy: { reference: 'Organization/x' } };
    assert.deepEqual(validateResource(service, { profiles: [PROFILE.healthcareService] }), []);
    assert.deepEqual(validateAgainstProfile({ ...service, providedBy: undefined }, PROFILE.healthcareService).map((i) => i.expression?.[0]), ['HealthcareService.providedBy']);
  });

  it('a profile applied to another resource type says so', () => {
    const issues = validateAgainstProfile(example(ORG), PROFILE.endpoint);
    assert.deepEqual(issues.map((i) => [i.code, i.expression?.[0]]), [['invalid', 'resourceType']]);
    assert.equal(KNOWN_PROFILES.length, 6);
    // An object resourceType with an own non-function toString cannot be turned into a string
    // (the property test's counterexample): still an issue, not a TypeError.
    for (const profile of KNOWN_PROFILES) {
      const wrong = validateAgainstProfile(JSON.parse('{"resourceType":{"toString":""}}'), profile);
      assert.deepEqual(wrong.map((i) => [i.code, i.expression?.[0]]), [['invalid', 'resourceType']], profile);
    }
  });
});

describe('profile properties', () => {
  // Elements each profile requires (min 1, or fixed): removing any one must yield at least one issue.
  const required: Record<string, string[]> = {
    List: ['status', 'mode', 'code', 'subject', 'source', 'emptyReason', 'extension'],
    Organization: ['identifier', 'name', 'type'],
    Endpoint: ['status', 'connectionType', 'payloadType', 'address', 'managingOrganization'],
    OrganizationAffiliation: ['identifier', 'active', 'organization', 'participatingOrganization', 'code'],
  };
  const cases = examples.flatMap((e) => required[String(e.resource.resourceType)].map((prop) => ({ ...e, prop })));

  it('removing, emptying or mistyping a required element of a valid example yields an issue', () => {
    fc.assert(
      fc.property(fc.constantFrom(...cases), fc.constantFrom('delete', 'empty', 'wrong-type'), ({ file, profile, prop }, how) => {
        const r = example(file);
        if (how === 'delete') delete r[prop];
        else r[prop] = how === 'empty' ? [] : 42; // none of these elements is a number
        const issues = validateResource(r, { profiles: [profile] });
        assert.ok(issues.length > 0, `${file} without ${prop} (${how}) passed`);
      }),
      { numRuns: 200 },
    );
  });

  it('profile rules never throw on arbitrary JSON', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...KNOWN_PROFILES),
        fc.oneof(fc.jsonValue(), fc.dictionary(fc.constantFrom('resourceType', 'identifier', 'code', 'subject', 'extension', 'source', 'payloadType', 'connectionType', 'name'), fc.jsonValue())),
        (profile, value) => {
          assert.ok(Array.isArray(validateAgainstProfile(value, profile)));
        },
      ),
      { numRuns: 500 },
    );
  });
});
