import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { type CitizenAccessEntry, citizenAuditEvent } from '../../audit/transparency/citizen-view.ts';
import { accessEntryOf, inclusionProofUrl } from './http.ts';

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
  side: fc.option(fc.constantFrom('requester', 'holder'), { nil: undefined }),
  otherPartyUra: fc.option(fc.stringMatching(/^\d{8}$/), { nil: undefined }),
  otherPartyName: fc.option(fc.string({ minLength: 1 }), { nil: undefined }),
  accessGroup: fc.option(fc.stringMatching(/^[A-Za-z0-9_-]{22}$/), { nil: undefined }),
  refused: fc.boolean(),
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
      // A name without a role is a citizen's app that asked on her behalf: read back too.
      assert.equal(back.professionalName, e.professionalName);
      assert.equal(back.exchange, e.exchange);
      assert.deepEqual(back.dataCategories, e.dataCategories);
      assert.equal(back.emergency, e.emergency);
      if (e.emergency) assert.equal(back.emergencyReason ?? '', e.emergencyReason ?? '');
      assert.equal(back.refused, e.refused);
      assert.equal(back.side, e.side);
      assert.equal(back.accessGroup, e.accessGroup);
      // The organisation is the event's own, never the other party (a holder's event names the requester there).
      const known = e.side !== undefined && e.otherPartyUra !== undefined;
      assert.equal(back.otherPartyUra, known ? e.otherPartyUra : undefined);
      assert.equal(back.otherPartyName, known ? e.otherPartyName : undefined);
    }),
  );
});

test('accessEntryOf keeps the leaf index and the proof link the log gave', () => {
  fc.assert(
    fc.property(entry, fc.webUrl(), (e, link) => {
      const back = accessEntryOf(citizenAuditEvent({ ...e, roleName: undefined } as CitizenAccessEntry), link);
      assert.equal(back.leafIndex, e.leafIndex);
      assert.equal(back.proofUrl, link);
    }),
  );
});

test('inclusionProofUrl follows the log link only inside the log, always pins the size, never throws', () => {
  const base = 'https://127.0.0.1:9443';
  const listed = { eventId: 'ev-1', when: '', organizationUra: '', dataCategories: [], emergency: false };
  const own = new URL(inclusionProofUrl(base, { ...listed, proofUrl: `${base}/proof/inclusion?id=ev-1` }, 7));
  assert.equal(own.searchParams.get('id'), 'ev-1');
  assert.equal(own.searchParams.get('size'), '7');
  fc.assert(
    fc.property(fc.option(fc.oneof(fc.webUrl(), fc.string()), { nil: undefined }), fc.string(), fc.nat(), (proofUrl, eventId, size) => {
      const u = new URL(inclusionProofUrl(`${base}/`, { ...listed, eventId, proofUrl }, size));
      assert.equal(u.origin, base);
      assert.equal(u.pathname, '/proof/inclusion');
      assert.deepEqual(u.searchParams.getAll('size'), [String(size)]);
      if (!proofUrl?.startsWith(`${base}/proof/inclusion`)) assert.equal(u.searchParams.get('id'), eventId);
    }),
  );
});
