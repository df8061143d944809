import type { FastifyInstance } from 'fastify';
import { capabilityStatement, operationDefinitions } from '../kit/fhir/capability.ts';
import { notFound } from '../kit/fhir/outcome.ts';
import type { AgreementsDocument } from '../trust/contract.ts';
import type { NodeTenant } from './environment.ts';
import { tenantCapability } from './tenant-capability.ts';

// GET /org/<URA>/fhir/metadata and the OperationDefinitions it names, per organisation. Built on
// each request from the agreements in force, so a new agreements version shows at once.

export function registerTenantMetadata(
  app: FastifyInstance,
  o: { tenants: Map<string, NodeTenant>; agreements: () => AgreementsDocument; baseUrl: () => string },
): void {
  const tenantOf = (ura: string) => {
    const t = o.tenants.get(ura);
    if (!t) throw notFound(`this node serves no organisation with URA ${ura}`);
    return t;
  };
  app.get<{ Params: { ura: string } }>('/org/:ura/fhir/metadata', async (request, reply) => {
    const tenant = tenantOf(request.params.ura);
    const base = `${o.baseUrl()}/org/${tenant.ura}/fhir`;
    const cs = capabilityStatement(`node-${tenant.ura}`, base, tenantCapability(o.agreements(), tenant), `${o.baseUrl()}/oauth/token`);
    return reply.type('application/fhir+json').send(cs);
  });
  app.get<{ Params: { ura: string; id: string } }>('/org/:ura/fhir/OperationDefinition/:id', async (request, reply) => {
    const tenant = tenantOf(request.params.ura);
    const definition = operationDefinitions(tenantCapability(o.agreements(), tenant)).get(request.params.id);
    if (!definition) throw notFound(`no OperationDefinition ${request.params.id} here`);
    return reply.type('application/fhir+json').send(definition);
  });
}
