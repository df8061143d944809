import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildAuditEvent, summarizeAuditEvent } from '../event.ts';
import { sampleInput, TRACEPARENT } from '../test-fixtures.ts';
import { accessGroupOf, citizenAuditEvent, toCitizenEntry } from './citizen-view.ts';

// A holder writes its own URA as the event's organisation; the citizen view must also carry who
// asked (the other party) and which events belong to one access, without the trace id itself.

const names: Record<string, string> = { '90000101': 'Ziekenhuis Veluwe', '90000102': 'Ziekenhuis Leiden' };
const organizationName = (ura: string) => names[ura];

const holderEvent = buildAuditEvent(
  sampleInput({
    who: { professionalName: 'A. Bakker', roleCode: '01.045', organizationUra: '90000102', clientId: '90000101', otherPartyUra: '90000101' },
    what: { exchange: 'acute-zorg', dataCategories: ['AllergyIntolerance'], interaction: 'search-type', side: 'holder' },
  }),
);
const requesterEvent = buildAuditEvent(
  sampleInput({
    who: { professionalName: 'A. Bakker', roleCode: '01.045', organizationUra: '90000101', clientId: '90000101' },
    what: { exchange: 'acute-zorg', dataCategories: ['AllergyIntolerance'], interaction: 'operation', side: 'requester' },
  }),
);

describe('citizen view of an access', () => {
  it('summarizes the other party: the requester in a holder event', () => {
    assert.equal(summarizeAuditEvent(holderEvent).otherPartyUra, '90000101');
    assert.equal(summarizeAuditEvent(holderEvent).organizationUra, '90000102');
    assert.equal(summarizeAuditEvent(requesterEvent).otherPartyUra, undefined, 'the requester event names no single holder');
  });

  it('gives the holder event its requester (with name) and the same access group as the requester event', () => {
    const holder = toCitizenEntry(holderEvent, 3, { organizationName });
    const requester = toCitizenEntry(requesterEvent, 2, { organizationName });
    assert.equal(holder.side, 'holder');
    assert.equal(holder.otherPartyUra, '90000101');
    assert.equal(holder.otherPartyName, 'Ziekenhuis Veluwe');
    assert.ok(holder.accessGroup);
    assert.equal(holder.accessGroup, requester.accessGroup);
    const other = toCitizenEntry(buildAuditEvent(sampleInput({ traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' })), 4);
    assert.notEqual(other.accessGroup, holder.accessGroup);
  });

  it('puts side, other party and group in the reduced event, but never the trace id', () => {
    const reduced = citizenAuditEvent(toCitizenEntry(holderEvent, 3, { organizationName }));
    const text = JSON.stringify(reduced);
    const traceId = TRACEPARENT.split('-')[1];
    assert.ok(!text.includes(traceId), 'no trace id');
    assert.ok(!text.includes(TRACEPARENT));
    assert.ok(text.includes(accessGroupOf(traceId)));
    assert.ok(text.includes('"valueString":"holder"'));
    assert.ok(reduced.agent?.some((a) => a.who?.identifier?.value === '90000101' && a.who.display === 'Ziekenhuis Veluwe'));
  });
});
