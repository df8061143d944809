import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { HttpError } from '../../kit/fhir/outcome.ts';
import { mayTransition, notificationTask, parseNotification, parseStatusUpdate, statusParameters, WORKFLOW_STATUSES } from './task-resources.ts';

const good = { senderUra: '90000101', receiverUra: '90000105', exchange: 'eoverdracht', taskUrl: 'https://node.example:8443/org/90000101/fhir/Task/abc-1' };

describe('notification Task', () => {
  it('round-trips through build and parse', () => {
    assert.deepEqual(parseNotification(notificationTask(good)), { ...good, description: undefined });
  });

  it('refuses what names no workflow Task, no URA or a non-https URL', () => {
    const bad = [
      { ...notificationTask(good), basedOn: [] },
      { ...notificationTask(good), basedOn: [{ reference: 'Task/abc' }] },
      { ...notificationTask(good), basedOn: [{ reference: 'http://node.example/org/90000101/fhir/Task/abc' }] },
      { ...notificationTask(good), basedOn: [{ reference: 'https://node.example/org/90000101/fhir/Patient/abc' }] },
      { ...notificationTask(good), basedOn: [{ reference: 'https://node.example/org/90000101/fhir/Patient/../Task/abc' }] },
      { ...notificationTask(good), basedOn: [{ reference: 'https://node.example/org/90000101/fhir/Task/..' }] },
      { ...notificationTask(good), requester: { identifier: { system: 'x', value: '90000101' } } },
      { ...notificationTask(good), owner: { identifier: { system: 'http://fhir.nl/fhir/NamingSystem/ura', value: '123' } } },
      { ...notificationTask(good), code: { coding: [] } },
      { resourceType: 'Patient' },
      null,
    ];
    for (const b of bad) assert.throws(() => parseNotification(b), (e: unknown) => e instanceof HttpError && e.status === 400, JSON.stringify(b));
  });

  it('never fails with anything but a 400 on arbitrary input (property)', () => {
    fc.assert(
      fc.property(fc.anything(), fc.record({ resourceType: fc.constant('Task'), basedOn: fc.anything(), code: fc.anything(), requester: fc.anything(), owner: fc.anything() }), (a, b) => {
        for (const input of [a, b]) {
          try {
            parseNotification(input);
          } catch (e) {
            assert.ok(e instanceof HttpError && e.status === 400, String(e));
          }
        }
      }),
    );
  });

  it('any valid URAs, exchange and Task id round-trip (property)', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^\d{8}$/), fc.stringMatching(/^\d{8}$/), fc.stringMatching(/^[a-z][a-z0-9-]{0,20}$/), fc.stringMatching(/^[A-Za-z0-9\-.]{1,64}$/).filter((id) => !/^\.+$/.test(id)), (s, r, x, id) => {
        const n = { senderUra: s, receiverUra: r, exchange: x, taskUrl: `https://h.example/org/${s}/fhir/Task/${id}` };
        assert.deepEqual(parseNotification(notificationTask(n)), { ...n, description: undefined });
      }),
    );
  });
});

describe('status update', () => {
  it('round-trips and requires a reason to reject or cancel', () => {
    const u = { status: 'completed' as const, outputs: ['https://n.example/org/90000104/fhir/MedicationDispense/1'] };
    assert.deepEqual(parseStatusUpdate(statusParameters(u)), { ...u, reason: undefined });
    assert.throws(() => parseStatusUpdate(statusParameters({ status: 'rejected', outputs: [] })), /needs a reason/);
    assert.equal(parseStatusUpdate(statusParameters({ status: 'rejected', reason: 'geen capaciteit', outputs: [] })).reason, 'geen capaciteit');
    assert.throws(() => parseStatusUpdate({ resourceType: 'Parameters', parameter: [{ name: 'status', valueCode: 'draft' }] }), /status must be one of/);
  });

  it('never fails with anything but a 400 on arbitrary input (property)', () => {
    fc.assert(
      fc.property(fc.anything(), fc.array(fc.record({ name: fc.constantFrom('status', 'reason', 'output', 'x'), valueCode: fc.anything(), valueString: fc.anything(), valueReference: fc.anything() })), (a, params) => {
        for (const input of [a, { resourceType: 'Parameters', parameter: params }]) {
          try {
            parseStatusUpdate(input);
          } catch (e) {
            assert.ok(e instanceof HttpError && e.status === 400, String(e));
          }
        }
      }),
    );
  });

  it('only the owner moves a Task forward; nothing leaves completed, rejected or cancelled', () => {
    assert.ok(mayTransition('owner', 'requested', 'accepted'));
    assert.ok(mayTransition('owner', 'accepted', 'completed'));
    assert.ok(!mayTransition('sender', 'requested', 'accepted'));
    assert.ok(mayTransition('sender', 'accepted', 'cancelled'));
    for (const from of ['completed', 'rejected', 'cancelled'] as const) {
      for (const to of WORKFLOW_STATUSES) for (const by of ['owner', 'sender'] as const) assert.ok(!mayTransition(by, from, to));
    }
  });
});
