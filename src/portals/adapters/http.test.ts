import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { type CitizenAccessEntry, citizenAuditEvent } from '../../audit/transparency/citizen-view.ts';
import { accessEntryOf } from './http.ts';

// The portal reads back exactly what the transparency part's citizen view writes.

const entry = fc.record({
  eventId: fc.uuid(),
  leafIndex: fc.nat(),
  when: fc.date({ min: new Date('2020-01-01'), max: new Date('2030-01-01'), noInvalidDate: true }).map((d) => d.toISOString()),
  organizationUra: fc.stringMatching(/^\d{8}$/),
  organizationName: fc.option(fc.string({ minLength: 1 }), { nil: undefined }),
  roleCode: fc.option(fc.constantFrom('01.045', '17.000', '30.000'), { nil: undefined }),
  professionalName: fc.option(fc.string({ minLength: 1 }), { nil: undefined }),
  exchange: fc.option(fc.constantFrom('acute-zorg', 'bgz'), { nil: undefined }),
  dataCategories: fc.array(fc.constantFrom('MedicationUse', 'AllergyIntolerance', 'Condition'), { maxLength: 3 }),
  purposeOfUse: fc.constant('TREAT'),
  emergency: fc.boolean(),
  emergencyReason: fc.option(fc.string({ minLength: 1 }), { nil: undefined }),
});

test('accessEntryOf reads the citizen AuditEvent of the transparency part back', () => {
  fc.assert(
    fc.property(entry, (e) => {
      const input = { ...e, roleName: undefined, emergencyReason: e.emergency ? e.emergencyReason : undefined } as CitizenAccessEntry;
      const back = accessEntryOf(citizenAuditEvent(input, 'pseudo-1'));
      assert.equal(back.eventId, e.eventId);
      assert.equal(back.when, e.when);
      assert.equal(back.organizationUra, e.organizationUra);
      assert.equal(back.organizationName, e.organizationName);
      assert.equal(back.roleCode, e.roleCode);
      assert.equal(back.professionalName, e.roleCode ? e.professionalName : undefined);
      assert.equal(back.exchange, e.exchange);
      assert.deepEqual(back.dataCategories, e.dataCategories);
      assert.equal(back.emergency, e.emergency);
      if (e.emergency) assert.equal(back.emergencyReason ?? '', e.emergencyReason ?? '');
    }),
  );
});
