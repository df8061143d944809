import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { defaultAgreements } from '../../trust/agreements/default-agreements.ts';
import { categoriesOfType, grantedScopes, requestedAccess, SHARE_SCOPE } from './scopes.ts';

const exchange = defaultAgreements().exchanges.find((e) => e.code === 'citizen-access')!;
const ALLOWED = ['patient/MedicationStatement.rs', 'patient/AllergyIntolerance.rs', 'patient/Observation.rs', SHARE_SCOPE, 'offline_access'];

test('resource scopes become data categories, limited to what the register allows the app', () => {
  const asked = requestedAccess(`patient/MedicationStatement.rs patient/Condition.rs patient/Observation.rs ${SHARE_SCOPE} offline_access openid`, ALLOWED, exchange);
  assert.deepEqual(asked.categories.sort(), ['MedicationUse', 'ObservationLaboratory', 'ObservationVitalSigns']);
  assert.equal(asked.share, true);
  assert.deepEqual(asked.other, ['offline_access'], 'openid was not allowed to this app');
  assert.deepEqual(requestedAccess('patient/*.rs', ['patient/*.rs'], exchange).categories.sort(), exchange.dataCategories.filter((c) => c !== 'Patient').sort());
  // Granting only vital signs keeps the Observation read scope; medication is dropped.
  assert.deepEqual(grantedScopes('patient/MedicationStatement.rs patient/Observation.rs offline_access', { categories: ['ObservationVitalSigns'], share: false, other: ['offline_access'] }, exchange).sort(), [
    'offline_access',
    'patient/Observation.rs',
  ]);
});

test('no scope string ever yields a category outside citizen-access, or sharing the app may not ask for (property)', () => {
  const token = fc.oneof(
    fc.constantFrom(...ALLOWED, 'patient/*.rs', 'patient/Patient.rs', 'patient/Observation.c', 'patient/Condition.rs', 'user/*.*', 'launch/patient'),
    fc.string({ maxLength: 30 }),
  );
  fc.assert(
    fc.property(fc.array(token, { maxLength: 8 }), fc.subarray(ALLOWED), (tokens, allowed) => {
      const asked = requestedAccess(tokens.join(' '), allowed, exchange);
      for (const c of asked.categories) assert.ok(exchange.dataCategories.includes(c) && c !== 'Patient', c);
      if (asked.share) assert.ok(allowed.includes(SHARE_SCOPE));
      const granted = grantedScopes(tokens.join(' '), asked, exchange);
      for (const s of granted) assert.ok(tokens.includes(s) || asked.other.includes(s), s);
    }),
    { numRuns: 500 },
  );
  assert.deepEqual(categoriesOfType(exchange, 'Patient'), []);
});
