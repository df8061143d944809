import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { AuditEvent } from '@medplum/fhirtypes';
import type { FastifyInstance } from 'fastify';
import { SYSTEM } from '../../kit/identifiers/systems.ts';
import { testBsn } from '../../kit/identifiers/bsn.ts';
import { EhrConnector } from './ehr-connector.ts';
import { ALLERGY_TEXT, answeringEhr, BSN, HOLDER, holderApp, PATIENT } from './holder-api.fixture.ts';

// The holder's enforcement point with the real policy decision point, in front of an EHR that
// does not answer (nothing listens on its port): every access by a verified requester leaves an
// audit event, also when every search failed at the EHR.

describe('holder audit', () => {
  const events: AuditEvent[] = [];
  /** What each event was handed to the outbox with (the BSN, sealed there; never in the event). */
  const patients: Array<{ bsn: string } | undefined> = [];
  let app: FastifyInstance;
  const connector = new EhrConnector({ baseUrl: HOLDER.ehrBaseUrl, deadlineMs: 2000 });
  before(async () => {
    app = await holderApp(
      async (e: AuditEvent, patient?: { bsn: string }) => {
        events.push(e);
        patients.push(patient);
      },
      connector,
      HOLDER.ehrBaseUrl,
    );
  });
  after(async () => {
    await app.close();
    await connector.close();
  });

  it('writes a serious-failure event when every search failed at the EHR', async () => {
    events.length = 0;
    const r = await app.inject({ method: 'GET', url: `/org/${HOLDER.ura}/fhir/AllergyIntolerance?${PATIENT}` });
    assert.equal(r.statusCode, 502, r.body);
    assert.equal(events.length, 1);
    assert.equal(events[0].outcome, '8');
    assert.match(events[0].outcomeDesc ?? '', /record system did not answer/);
    assert.ok(!JSON.stringify(events[0]).includes(BSN));
    assert.deepEqual(patients.at(-1), { bsn: BSN }, 'the BSN goes to the outbox, to name the patient at delivery');
  });

  it('writes a minor-failure event for a refused query and for a broken emergency header', async () => {
    events.length = 0;
    const refused = await app.inject({ method: 'GET', url: `/org/${HOLDER.ura}/fhir/MedicationStatement?${PATIENT}&_include=*` });
    assert.equal(refused.statusCode, 403, refused.body);
    const broken = await app.inject({ method: 'GET', url: `/org/${HOLDER.ura}/fhir/AllergyIntolerance?${PATIENT}`, headers: { 'ldn-emergency-reason': '%E0%A4%A' } });
    assert.equal(broken.statusCode, 400, broken.body);
    assert.deepEqual(events.map((e) => e.outcome), ['4', '4']);
  });

  it('logs a batch naming two patients in each one\'s access log, under its own event, and refuses it', async () => {
    events.length = 0;
    patients.length = 0;
    const other = testBsn(1002);
    const search = (bsn: string) => ({ request: { method: 'GET', url: `AllergyIntolerance?patient:identifier=${encodeURIComponent(`${SYSTEM.bsn}|${bsn}`)}` } });
    const r = await app.inject({
      method: 'POST',
      url: `/org/${HOLDER.ura}/fhir`,
      payload: { resourceType: 'Bundle', type: 'batch', entry: [search(BSN), search(other)] },
    });
    assert.equal(r.statusCode, 400, r.body);
    assert.match(r.body, /one patient/);
    assert.deepEqual(patients, [{ bsn: BSN }, { bsn: other }], 'one event for each patient the batch named');
    assert.notEqual(events[0].id, events[1].id);
    assert.ok(!JSON.stringify(events).includes(BSN) && !JSON.stringify(events).includes(other), 'no BSN in the events');
  });
});

describe('holder audit failure', () => {
  // An EHR that answers: one patient with the BSN and one allergy. The audit log refuses writes.
  let ehr: import('node:http').Server;
  let app: FastifyInstance;
  let connector: EhrConnector;
  before(async () => {
    let base: string;
    ({ server: ehr, base } = await answeringEhr());
    connector = new EhrConnector({ baseUrl: base, deadlineMs: 2000 });
    app = await holderApp(
      async () => {
        throw new Error('disk full');
      },
      connector,
      base,
    );
  });
  after(async () => {
    await app.close();
    await connector.close();
    await new Promise((r) => ehr.close(r));
  });

  it('releases nothing when the access cannot be logged (503)', async () => {
    const r = await app.inject({ method: 'GET', url: `/org/${HOLDER.ura}/fhir/AllergyIntolerance?${PATIENT}` });
    assert.equal(r.statusCode, 503, r.body);
    assert.equal(JSON.parse(r.body).resourceType, 'OperationOutcome');
    assert.ok(!r.body.includes(ALLERGY_TEXT), 'no clinical data in the answer');
  });
});
