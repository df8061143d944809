import type { AddressInfo } from 'node:net';
import type { CapabilityStatement } from '@medplum/fhirtypes';
import Fastify, { type FastifyInstance } from 'fastify';
import type { TlsIdentity } from '../kit/part.ts';

// A deliberately broken holder for the conformance kit's own tests: it looks like a node's open
// interface but breaks rule after rule (no security declared, XML answered with JSON, no token
// needed, undeclared parameters and unknown types answered, another patient's and an unlisted
// category's data served, no refusal of anything). NOT built with the kit's service factory on
// purpose: that would give it the 405/406/404 answers this fixture must lack.

export const BROKEN_URA = '90000999';

const capability: CapabilityStatement = {
  resourceType: 'CapabilityStatement',
  status: 'active',
  date: '2026-01-01',
  kind: 'instance',
  fhirVersion: '4.0.1',
  format: ['json'],
  rest: [
    {
      mode: 'server',
      resource: [
        { type: 'Patient', interaction: [{ code: 'search-type' }], searchParam: [{ name: 'identifier', type: 'token' }] },
        { type: 'Observation', interaction: [{ code: 'search-type' }], searchParam: [{ name: 'patient', type: 'reference' }, { name: 'category', type: 'token' }] },
      ],
    },
  ],
};

const observation = (id: string, patient: string, category: string) => ({
  resourceType: 'Observation',
  id,
  status: 'final',
  category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: category }] }],
  code: { text: id },
  subject: { reference: `Patient/${patient}` },
});

export async function startBrokenNode(tls: TlsIdentity): Promise<{ url: string; base: string; app: FastifyInstance }> {
  const app = Fastify({ https: { key: tls.key, cert: tls.cert, ca: tls.ca, requestCert: true, rejectUnauthorized: false } });
  const bundle = (resources: unknown[]) => ({ resourceType: 'Bundle', type: 'searchset', entry: resources.map((resource) => ({ resource, search: { mode: 'match' } })) });
  app.get('/org/:ura/fhir/metadata', async () => capability);
  app.get<{ Params: { type: string } }>('/org/:ura/fhir/:type', async (request) => {
    if (request.params.type === 'Patient') return bundle([{ resourceType: 'Patient', id: 'p1' }]);
    if (request.params.type === 'Observation') {
      return bundle([observation('vitals-own', 'p1', 'vital-signs'), observation('lab-other-patient', 'p2', 'laboratory'), observation('smoking', 'p1', 'social-history')]);
    }
    return bundle([]);
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const url = `https://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  return { url, base: `${url}/org/${BROKEN_URA}/fhir`, app };
}
