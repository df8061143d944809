import assert from 'node:assert/strict';
import { test } from 'node:test';
import { accessRows, type LoggedAccess } from './access-rows.ts';

// The review's case: one overview by A. Bakker (Ziekenhuis Veluwe) for De Groot left the
// requester's event and three holders' events; they showed as four lines, three of which put her
// at the holders. They must read as one access by Veluwe that read the holders' data.

const VELUWE = { organizationUra: '90000101', organizationName: 'Ziekenhuis Veluwe' };
const professional = { roleCode: '01.045', roleName: 'Spoedeisende hulp arts', professionalName: 'A. Bakker' };
const base = { exchange: 'acute-zorg', emergency: false, inLog: true };

function holderEvent(id: string, ura: string, name: string, extra: Partial<LoggedAccess> = {}): LoggedAccess & { inLog: boolean } {
  return {
    ...base,
    ...professional,
    eventId: id,
    when: '2026-11-29T10:00:01Z',
    organizationUra: ura,
    organizationName: name,
    side: 'holder',
    otherPartyUra: VELUWE.organizationUra,
    otherPartyName: VELUWE.organizationName,
    accessGroup: 'g1',
    dataCategories: ['AllergyIntolerance'],
    ...extra,
  };
}

const overview = [
  { ...base, ...VELUWE, ...professional, eventId: 'r1', when: '2026-11-29T10:00:02Z', side: 'requester' as const, accessGroup: 'g1', dataCategories: ['AllergyIntolerance', 'MedicationUse', 'Condition'] },
  holderEvent('h1', '90000201', 'Huisartsenpraktijk Kerkrade', { dataCategories: ['Condition'] }),
  holderEvent('h2', '90000202', 'Apotheek Kerkrade', { dataCategories: ['MedicationUse'] }),
  holderEvent('h3', '90000102', 'Ziekenhuis Leiden', { dataCategories: ['AllergyIntolerance'] }),
];

test('the requester and holder events of one access are one line: Veluwe looked, the holders were read', () => {
  const rows = accessRows(overview);
  assert.equal(rows.length, 1);
  const [r] = rows;
  assert.equal(r.kind, 'professional');
  assert.equal(r.accessorName, 'Ziekenhuis Veluwe');
  assert.equal(r.accessorUra, '90000101');
  assert.equal(r.professionalName, 'A. Bakker');
  assert.deepEqual(r.holders.map((h) => h.name), ['Huisartsenpraktijk Kerkrade', 'Apotheek Kerkrade', 'Ziekenhuis Leiden']);
  assert.deepEqual([...r.dataCategories].sort(), ['AllergyIntolerance', 'Condition', 'MedicationUse']);
  assert.equal(r.when, '2026-11-29T10:00:01Z', 'the earliest event of the access');
  assert.equal(r.refused, false);
  assert.equal(r.inLog, true);
});

test('without the requester event the holder events still name the requester, never the holder, as who looked', () => {
  const [r] = accessRows(overview.slice(1));
  assert.equal(r.accessorName, 'Ziekenhuis Veluwe');
  assert.equal(r.roleName, 'Spoedeisende hulp arts');
  assert.ok(!r.holders.some((h) => h.ura === r.accessorUra));
});

test('a holder that refused is named as such; its categories are not counted as read', () => {
  const events = [overview[0], overview[1], holderEvent('h2', '90000202', 'Apotheek Kerkrade', { refused: true, dataCategories: ['MedicationUse'] })];
  const [r] = accessRows(events);
  assert.deepEqual(r.holders.map((h) => [h.name, h.refused]), [['Huisartsenpraktijk Kerkrade', false], ['Apotheek Kerkrade', true]]);
  assert.deepEqual(r.dataCategories, ['Condition']);
  assert.equal(r.refused, false);
});

test('when every holder refused, the line says no data was shown', () => {
  const events = [overview[0], holderEvent('h1', '90000201', 'Huisartsenpraktijk Kerkrade', { refused: true })];
  const [r] = accessRows(events);
  assert.equal(r.refused, true);
  assert.deepEqual(r.dataCategories, []);
});

test('one unproven event makes the whole line unproven', () => {
  const [r] = accessRows([overview[0], { ...overview[1], inLog: false }]);
  assert.equal(r.inLog, false);
});

test('separate accesses stay separate lines, newest first; emergencies are kept', () => {
  const later = { ...overview[0], eventId: 'r2', when: '2026-11-30T08:00:00Z', accessGroup: 'g2', emergency: true, emergencyReason: 'Bewusteloos' };
  const rows = accessRows([...overview, later]);
  assert.equal(rows.length, 2);
  assert.deepEqual(rows[0].eventIds, ['r2']);
  assert.equal(rows[0].emergency, true);
  assert.equal(rows[0].emergencyReason, 'Bewusteloos');
  assert.equal(rows[1].emergency, false);
});

test("the citizen's own view of her data is labelled as hers, with the organisations whose data she saw", () => {
  const own = (id: string, ura: string, name: string) => ({
    ...holderEvent(id, ura, name, { exchange: 'citizen-access', accessGroup: 'g3', otherPartyUra: '90000001', otherPartyName: 'Netwerkbeheer' }),
    roleCode: undefined,
    roleName: undefined,
    professionalName: undefined,
  });
  const rows = accessRows([own('c1', '90000102', 'Ziekenhuis Leiden'), own('c2', '90000202', 'Apotheek Kerkrade')]);
  assert.equal(rows.length, 1);
  assert.equal(rows[0].kind, 'self');
  assert.equal(rows[0].accessorName, undefined);
  assert.deepEqual(rows[0].holders.map((h) => h.name), ['Ziekenhuis Leiden', 'Apotheek Kerkrade']);
});

test('events without a group or side (older log entries) stay one line each, read as before', () => {
  const old = { ...base, ...VELUWE, eventId: 'o1', when: '2025-01-01T00:00:00Z', dataCategories: ['MedicationUse'] };
  const rows = accessRows([old, { ...old, eventId: 'o2' }]);
  assert.equal(rows.length, 2);
  assert.equal(rows[0].accessorName, 'Ziekenhuis Veluwe');
});

test("a citizen's app looking on her behalf is one line of its own, labelled with the app's name", () => {
  const own = { ...base, exchange: 'citizen-access', side: 'holder' as const, otherPartyUra: '90000001', dataCategories: ['MedicationUse'] };
  const rows = accessRows([
    { ...own, eventId: 'a1', when: '2026-12-03T10:00:00Z', organizationUra: '90000103', organizationName: 'Huisartsenpraktijk Kerkrade', professionalName: 'Gezond Thuis', accessGroup: 'app' },
    { ...own, eventId: 'a2', when: '2026-12-03T10:00:00Z', organizationUra: '90000104', organizationName: 'Apotheek Kerkrade', professionalName: 'Gezond Thuis', accessGroup: 'app' },
    { ...own, eventId: 's1', when: '2026-12-03T09:00:00Z', organizationUra: '90000103', organizationName: 'Huisartsenpraktijk Kerkrade', accessGroup: 'self' },
  ]);
  assert.equal(rows.length, 2);
  assert.equal(rows[0].kind, 'app');
  assert.equal(rows[0].appName, 'Gezond Thuis');
  assert.deepEqual(rows[0].holders.map((h) => h.name), ['Huisartsenpraktijk Kerkrade', 'Apotheek Kerkrade']);
  assert.equal(rows[0].professionalName, undefined, 'an app is not a professional');
  assert.equal(rows[1].kind, 'self');
});
