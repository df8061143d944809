import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { testBsn } from '../kit/identifiers/bsn.ts';
import { SYSTEM } from '../kit/identifiers/systems.ts';
import { AuditInputError, buildAuditEvent, containsBsn, localPatientReference, redactBsns, summarizeAuditEvent, toTransparencyEvent, traceIdOf, withoutPseudonymToken } from './event.ts';
import { SAMPLE_PSEUDONYM_TOKEN, sampleInput } from './test-fixtures.ts';

describe('buildAuditEvent', () => {
  it('shapes a BALP-like RESTful AuditEvent with who, what, patient, why, trace', () => {
    const e = buildAuditEvent(sampleInput({ when: '2025-01-02T03:04:05.000Z' }));
    assert.equal(e.resourceType, 'AuditEvent');
    assert.equal(e.type?.code, 'rest');
    assert.equal(e.subtype?.[0].code, 'search-type');
    assert.equal(e.action, 'R');
    assert.equal(e.outcome, '0');
    const s = summarizeAuditEvent(e);
    assert.equal(s.organizationUra, '90000101');
    assert.equal(s.professionalNumber, '900001011');
    assert.equal(s.roleCode, '01.045');
    assert.equal(s.exchange, 'acute-zorg');
    assert.deepEqual(s.dataCategories, ['MedicationRequest', 'AllergyIntolerance']);
    assert.equal(s.pseudonymToken, SAMPLE_PSEUDONYM_TOKEN);
    assert.equal(s.pseudonym, undefined);
    assert.equal(s.purposeOfUse, 'TREAT');
    assert.equal(s.emergency, false);
    assert.equal(s.traceId, '4bf92f3577b34da6a3ce929d0e0e4736');
    assert.equal(s.side, 'requester');
    assert.equal(e.recorded, '2025-01-02T03:04:05.000Z');
  });

  it('marks break-the-glass with BTG and the reason', () => {
    const e = buildAuditEvent(sampleInput({ why: { purposeOfUse: 'ETREAT', emergencyReason: 'patient cannot speak' } }));
    const s = summarizeAuditEvent(e);
    assert.equal(s.emergency, true);
    assert.equal(s.emergencyReason, 'patient cannot speak');
    assert.ok(e.purposeOfEvent?.[0].coding?.some((c) => c.code === 'BTG'));
  });

  it('rejects a BSN in any patient field', () => {
    const bsn = testBsn(42);
    assert.throws(() => buildAuditEvent(sampleInput({ patient: { localReference: `Patient/${bsn}` } })), AuditInputError);
    assert.throws(() => buildAuditEvent(sampleInput({ patient: { transparencyPseudonym: bsn } })), AuditInputError);
    assert.throws(() => buildAuditEvent(sampleInput({ patient: {} })), AuditInputError);
    assert.throws(() => buildAuditEvent(sampleInput({ patient: { transparencyPseudonymToken: bsn } })), AuditInputError);
    assert.throws(() => buildAuditEvent(sampleInput({ patient: { transparencyPseudonym: 'tp', transparencyPseudonymToken: SAMPLE_PSEUDONYM_TOKEN } })), AuditInputError);
  });

  it('redacts a BSN in the query and free texts', () => {
    const bsn = testBsn(7);
    const e = buildAuditEvent(
      sampleInput({
        what: { ...sampleInput().what, query: `Patient?identifier=${SYSTEM.bsn}|${bsn}` },
        why: { purposeOfUse: 'ETREAT', emergencyReason: `bsn ${bsn}` },
        outcomeDescription: `not found ${bsn}`,
      }),
    );
    assert.ok(!JSON.stringify(e).includes(bsn));
    const q = e.entity?.find((x) => x.role?.code === '24')?.query;
    assert.match(Buffer.from(q!, 'base64').toString('utf8'), /\|\[bsn\]$/);
  });

  it('rejects a malformed traceparent', () => {
    assert.throws(() => buildAuditEvent(sampleInput({ traceparent: 'nope' })), AuditInputError);
    assert.equal(traceIdOf('nope'), undefined);
  });

  it('the local copy drops the PRS token, the transparency copy keeps it', () => {
    const e = buildAuditEvent(sampleInput());
    assert.ok(JSON.stringify(e).includes(SAMPLE_PSEUDONYM_TOKEN));
    const local = withoutPseudonymToken(e);
    assert.ok(!JSON.stringify(local).includes(SAMPLE_PSEUDONYM_TOKEN));
    assert.equal(summarizeAuditEvent(local).pseudonymToken, undefined);
    assert.equal(local.entity?.[0].what?.reference, 'Patient/p1');
  });

  it('transparency copy drops the local patient reference', () => {
    const t = toTransparencyEvent(buildAuditEvent(sampleInput()));
    assert.ok(!JSON.stringify(t).includes('Patient/p1'));
    assert.equal(summarizeAuditEvent(t).pseudonymToken, SAMPLE_PSEUDONYM_TOKEN);
  });

  it('property: redactBsns leaves no BSN and keeps non-BSN text', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.integer({ min: 0, max: 9_999_999 }).map(testBsn), fc.string()), { maxLength: 6 }), (parts) => {
        const text = parts.join(' ');
        const out = redactBsns(text);
        assert.equal(containsBsn(out), false);
        if (!containsBsn(text)) assert.equal(out, text);
      }),
    );
  });
});

describe('localPatientReference', () => {
  it('never yields what buildAuditEvent refuses as a BSN, whatever the trace id or EHR id (property)', () => {
    const hex = fc.stringMatching(/^[0-9a-f]{32}$/);
    const ehrRef = fc.option(fc.oneof(fc.stringMatching(/^Patient\/[0-9]{1,12}$/), fc.constant(`Patient/${testBsn(7)}`)), { nil: undefined });
    fc.assert(
      fc.property(ehrRef, hex, (ref, traceId) => {
        const r = localPatientReference(ref, 'request', traceId);
        assert.ok(!containsBsn(r), r);
        if (ref && !containsBsn(ref)) assert.equal(r, ref);
      }),
    );
  });

  it('keeps a trace id that happens to hold a valid BSN out of the reference', () => {
    const traceId = `ab${testBsn(3)}cdef0123456789abcdef0`.slice(0, 32);
    assert.ok(containsBsn(`overview:${traceId}`), 'the raw trace id would have been refused');
    assert.ok(!containsBsn(localPatientReference(undefined, 'overview', traceId)));
  });
});
