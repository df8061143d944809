import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
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
import type { EhrConnector } from './ehr-connector.ts';
import { registerHolderApi } from './holder-api.ts';

// The holder's enforcement point as its tests build it (holder-api.test.ts, access-log.test.ts):
// the real policy decision point, everything permitted by one consent, a verified requester, and
// whatever audit log and EHR the test gives.

export const BSN = testBsn(1001);
export const HOLDER: NodeTenant = { ura: '90000102', name: 'Ziekenhuis Leiden', type: 'V4', identity: {} as NodeTenant['identity'], ehrBaseUrl: 'http://127.0.0.1:9/fhir' };
const REQUESTER = '90000101';
const CLAIMS = { sub: REQUESTER, scope: 'acute-zorg', client_id: REQUESTER, dezi_number: '900001011', role_code: '01.045', name: 'A. Bakker' } as AccessTokenClaims;
export const PATIENT = `patient:identifier=${encodeURIComponent(`${SYSTEM.bsn}|${BSN}`)}`;
/** What the answering EHR's allergy says: a test looks for it in an answer that must release nothing. */
export const ALLERGY_TEXT = 'contrastmiddel';

/** The holder API with the real PDP (everything permitted by one consent), in front of `ehrBaseUrl`. */
export async function holderApp(audit: NodeEnvironment['audit'], connector: EhrConnector, ehrBaseUrl: string): Promise<FastifyInstance> {
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

/** An EHR that answers every search: the patient with BSN, and one allergy (ALLERGY_TEXT). */
export async function answeringEhr(): Promise<{ server: Server; base: string }> {
  const server = createServer((req, res) => {
    res.setHeader('content-type', 'application/fhir+json');
    const patient = { resourceType: 'Patient', id: 'p1', identifier: [{ system: SYSTEM.bsn, value: BSN }] };
    const allergy = { resourceType: 'AllergyIntolerance', id: 'a1', patient: { reference: 'Patient/p1' }, code: { text: ALLERGY_TEXT } };
    const resource = req.url?.startsWith('/fhir/Patient') ? patient : allergy;
    res.end(JSON.stringify({ resourceType: 'Bundle', type: 'searchset', entry: [{ resource, search: { mode: 'match' } }] }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}/fhir` };
}
