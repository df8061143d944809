import type { Bundle, Task } from '@medplum/fhirtypes';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { LdnError } from '../../kit/errors.ts';
import { badRequest, forbidden, HttpError, notFound } from '../../kit/fhir/outcome.ts';
import { type AccessTokenClaims, userOf } from '../../trust/contract.ts';
import type { NodeEnvironment, NodeTenant } from '../environment.ts';
import type { Professional, Receiver } from './receiver.ts';
import type { Sender, SentTask } from './sender.ts';
import { notificationTask, parseStatusUpdate } from './task-resources.ts';

// The organisation's own systems ask their node to hand over, and to act on what was handed
// to them, for a logged-in professional (as for the overview): the organisation's certificate,
// a token from this node naming her, and her verklaring, which travels on to the other node.

export const DELIVERY_SYSTEM = 'https://ldn.example.nl/fhir/CodeSystem/notification-delivery';

export interface OrgApiDeps {
  env: NodeEnvironment;
  tenants: Map<string, NodeTenant>;
  sender: Sender;
  receiver: Receiver;
  verifyToken(request: FastifyRequest, tenant: NodeTenant): Promise<AccessTokenClaims>;
  baseUrl(): string;
}

/** The sent Task with its notification's delivery as businessStatus. */
export function withDelivery(s: SentTask): Task {
  if (!s.delivery) return s.task;
  return {
    ...s.task,
    businessStatus: {
      coding: [{ system: DELIVERY_SYSTEM, code: s.delivery.state }],
      text: `notification ${s.delivery.state} after ${s.delivery.attempts} attempt(s)${s.delivery.lastError ? `: ${s.delivery.lastError}` : ''}`,
    },
  };
}

export async function registerWorkflowOrgApi(app: FastifyInstance, d: OrgApiDeps): Promise<void> {
  async function caller(request: FastifyRequest, ura: string): Promise<{ tenant: NodeTenant; user: Professional }> {
    const tenant = d.tenants.get(ura);
    if (!tenant) throw notFound(`this node serves no organisation with URA ${ura}`);
    if (request.peer?.ura !== tenant.ura) throw forbidden('only the organisation itself may use its workflow interface');
    const claims = await d.verifyToken(request, tenant);
    const user = userOf(claims);
    if (!user) throw forbidden('the access token names no professional');
    const verklaring = request.headers['dezi-verklaring'];
    if (typeof verklaring !== 'string') throw badRequest('the Dezi-Verklaring header (the professional\'s verklaring) is required');
    const checked = await d.env.verifyVerklaring(verklaring, tenant.ura).catch((e: Error) => {
      // Refused as 403 here whatever the reason; the identity part's code (why) travels along.
    throw new HttpError(403, 'forbidden', `verklaring refused: ${e.message}`, { code: e instanceof LdnError ? e.code : undefined });
    });
    if (checked.deziNumber !== user.deziNumber) throw forbidden('the verklaring names another professional than the token');
    const workflowScopes = d.env.agreements().exchanges.filter((e) => e.notifiedPull).flatMap((e) => e.scopes);
    if (!claims.scope.split(' ').some((s) => workflowScopes.includes(s))) throw forbidden('the access token carries no notified-pull exchange scope');
    return { tenant, user: { deziNumber: user.deziNumber, name: user.name, roleCode: user.roleCode, verklaring } };
  }
  const fhir = 'application/fhir+json';

  app.post<{ Params: { ura: string }; Body: { exchange?: unknown; receiver?: unknown; patient?: unknown; inputs?: unknown; note?: unknown } }>(
    '/org/:ura/workflow/handovers',
    async (request, reply) => {
      const { tenant, user } = await caller(request, request.params.ura);
      const b = request.body ?? {};
      if (typeof b.exchange !== 'string' || typeof b.receiver !== 'string' || typeof b.patient !== 'string') throw badRequest('exchange, receiver (URA) and patient (BSN) are required');
      if (!Array.isArray(b.inputs) || !b.inputs.every((x) => typeof x === 'string')) throw badRequest('inputs must be a list of Type/id references');
      if (b.note !== undefined && typeof b.note !== 'string') throw badRequest('note must be text');
      const sent = await d.sender.create({ tenant, exchange: b.exchange, receiverUra: b.receiver, bsn: b.patient, inputs: b.inputs as string[], note: b.note as string | undefined, user, trace: request.trace });
      return reply.code(201).type(fhir).send(withDelivery(sent));
    },
  );

  app.get<{ Params: { ura: string; id: string } }>('/org/:ura/workflow/handovers/:id', async (request, reply) => {
    const { tenant } = await caller(request, request.params.ura);
    return reply.type(fhir).send(withDelivery(await d.sender.sent(tenant, request.params.id)));
  });

  app.post<{ Params: { ura: string; id: string }; Body: { reason?: unknown } }>('/org/:ura/workflow/handovers/:id/$cancel', async (request, reply) => {
    const { tenant } = await caller(request, request.params.ura);
    const reason = request.body?.reason;
    if (typeof reason !== 'string') throw badRequest('reason is required');
    return reply.type(fhir).send(withDelivery(await d.sender.cancel(tenant, request.params.id, reason)));
  });

  app.get<{ Params: { ura: string } }>('/org/:ura/workflow/inbox', async (request, reply) => {
    const { tenant } = await caller(request, request.params.ura);
    const list = await d.receiver.list(tenant);
    const bundle: Bundle = {
      resourceType: 'Bundle',
      type: 'searchset',
      total: list.length,
      entry: list.map((n) => ({
        resource: {
          ...notificationTask({ senderUra: n.senderUra, receiverUra: n.tenantUra, exchange: n.exchange, taskUrl: n.taskUrl, description: n.description }),
          id: n.id,
          status: n.status,
          authoredOn: n.receivedAt,
        },
      })),
    };
    return reply.type(fhir).send(bundle);
  });

  app.get<{ Params: { ura: string; id: string } }>('/org/:ura/workflow/inbox/:id', async (request, reply) => {
    const { tenant, user } = await caller(request, request.params.ura);
    return reply.type(fhir).send((await d.receiver.readTask(tenant, request.params.id, user, request.trace)).task);
  });

  app.post<{ Params: { ura: string; id: string }; Body: unknown }>('/org/:ura/workflow/inbox/:id/$status', async (request, reply) => {
    const { tenant, user } = await caller(request, request.params.ura);
    const update = parseStatusUpdate(request.body);
    return reply.type(fhir).send(await d.receiver.setStatus(tenant, request.params.id, update, user, request.trace));
  });

  app.get<{ Params: { ura: string; id: string } }>('/org/:ura/workflow/inbox/:id/$pull', async (request, reply) => {
    const { tenant, user } = await caller(request, request.params.ura);
    const handover = await d.receiver.open(tenant, request.params.id, user, request.trace);
    const bundle: Bundle = {
      ...handover.bundle,
      entry: [
        ...(handover.bundle.entry ?? []),
        ...handover.refused.map((text) => ({
          resource: { resourceType: 'OperationOutcome' as const, issue: [{ severity: 'warning' as const, code: 'forbidden' as const, diagnostics: text }] },
        })),
      ],
    };
    return reply.type(fhir).send(bundle);
  });

  app.post<{ Params: { ura: string; id: string } }>('/org/:ura/workflow/inbox/:id/$dispense', async (request, reply) => {
    const { tenant, user } = await caller(request, request.params.ura);
    const { task, dispense } = await d.receiver.dispense(tenant, request.params.id, user, request.trace, d.baseUrl());
    return reply.type(fhir).send({ resourceType: 'Bundle', type: 'collection', entry: [{ resource: task }, { resource: dispense }] } satisfies Bundle);
  });
}
