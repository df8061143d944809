import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { AuditEvent } from '@medplum/fhirtypes';
import Fastify, { type FastifyInstance } from 'fastify';
import { RecordsConsentOracle } from '../../consent/pdp/oracle.ts';
import { createPdp } from '../../consent/pdp/evaluate.ts';
import { testBsn } from '../../kit/identifiers/bsn.ts';
import { SYSTEM } from '../../kit/identifiers/systems.ts';
import { answerErrorsAsOutcomes } from '../../kit/http/service.ts';
import { createLogger } from '../../kit/log.ts';
import { newTrace } from '../../kit/trace.ts';
import { defaultAgreements } from '../../trust/agreements/default-agreements.ts';
import type { AccessTokenClaims } from '../../trust/auth/claims.ts';
import type { NodeEnvironment, NodeTenant } from '../environment.ts';
import { EhrConnector } from './ehr-connector.ts';
import { registerHolderApi } from './holder-api.ts';

// The holder's enforcement point with the real policy decision point, in front of an EHR that
// does not answer (nothing listens on its port): every access by a verified requester leaves an
// audit event, also when every search failed at the EHR.

const BSN = testBsn(1001);
const HOLDER: NodeTenant = { ura: '90000102', name: 'Ziekenhuis Leiden', type: 'V4', identity: {} as NodeTenant['identity'], ehrBaseUrl: 'http://127.0.0.1:9/fhir' };
const REQUESTER = '90000101';
const CLAIMS = { sub: REQUESTER, scope: 'acute-zorg', client_id: REQUESTER, dezi_number: '900001011', role_code: '01.045', name: 'A. Bakker' } as AccessTokenClaims;
const PATIENT = `patient:identifier=${encodeURIComponent(`${SYSTEM.bsn}|${BSN}`)}`;

/** The holder API with the real PDP (everything permitted by one consent), in front of `ehrBaseUrl`. */
async function holderApp(audit: NodeEnvironment['audit'], connector: EhrConnector, ehrBaseUrl: string): Promise<FastifyInstance> {
  const agreements = defaultAgreements();
  const env = {
    agreements: () => agreements,
    participant: async (ura: string) => ({ ura, name: 'Ziekenhuis Veluwe', type: 'V4', status: 'admitted', qualifications: [{ code: 'acute-zorg' }] }),
    audit,
  } as unknown as NodeEnvironment;
  const consent = new RecordsConsentOracle(() => [{ id: 'all', version: 1, bsn: BSN, status: 'active', provision: 'permit', holderUras: [], holderTypes: [], requesterUras: [], requesterTypes: [], dataCategories: [] }], () => 'opt-in');
  const app = Fastify();
  const log = createLogger('test', { level: 'silent' });
  app.addHook('onRequest', async (request) => {
    request.trace = newTrace();
  });
  answerErrorsAsOutcomes(app, log);
  await registerHolderApi(app, {
    tenants: new Map([[HOLDER.ura, { ...HOLDER, ehrBaseUrl }]]),
    env,
    pdp: createPdp({ agreements: () => agreements, consent }),
    connectors: new Map([[HOLDER.ura, connector]]),
    verifyToken: async () => CLAIMS,
    baseUrl: () => 'https://holder.test',
  });
  return app;
}

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
    const { createServer } = await import('node:http');
    ehr = createServer((req, res) => {
      res.setHeader('content-type', 'application/fhir+json');
      const patient = { resourceType: 'Patient', id: 'p1', identifier: [{ system: SYSTEM.bsn, value: BSN }] };
      const allergy = { resourceType: 'AllergyIntolerance', id: 'a1', patient: { reference: 'Patient/p1' }, code: { text: 'contrastmiddel' } };
      const resource = req.url?.startsWith('/fhir/Patient') ? patient : allergy;
      res.end(JSON.stringify({ resourceType: 'Bundle', type: 'searchset', entry: [{ resource, search: { mode: 'match' } }] }));
    });
    await new Promise<void>((r) => ehr.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(ehr.address() as import('node:net').AddressInfo).port}/fhir`;
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
    assert.ok(!r.body.includes('contrastmiddel'), 'no clinical data in the answer');
  });
});
