import { randomUUID } from 'node:crypto';
import type { Patient, Resource, Task } from '@medplum/fhirtypes';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { badRequest, forbidden, HttpError, notFound, unprocessable } from '../../kit/fhir/outcome.ts';
import { SYSTEM } from '../../kit/identifiers/systems.ts';
import { qualifiedAt } from '../../kit/rules/qualification.ts';
import type { Store } from '../../kit/store/store.ts';
import type { TraceContext } from '../../kit/trace.ts';
import { type AccessTokenClaims, exchangeByCode, type ExchangeDefinition, workflowTaskOf } from '../../trust/contract.ts';
import type { NodeEnvironment, NodeTenant } from '../environment.ts';
import { patientIdOf } from '../ehr-sim/resource-facts.ts';
import { type EhrConnector, EhrError } from '../source/ehr-connector.ts';
import { categoryOf } from '../source/referral-sync.ts';
import { auditWorkflow, type StoredStepAlarm } from './audit.ts';
import type { WorkflowExchange } from './exchanges/types.ts';
import { decidePull } from './pull-policy.ts';
import { deliveryOf, getTask, insertTaskWithNotification, updateTaskStatus } from './store.ts';
import { mayTransition, parseStatusUpdate, type WorkflowTaskRecord, workflowTask } from './task-resources.ts';

// The sender's side of notified pull: make the workflow Task (checked against the agreements,
// the directory and the EHR) together with its outbox row, and serve the receiver: the Task
// itself, status changes by the owner, and reads of exactly what the Task names while active.

export interface SenderDeps {
  store: Store;
  env: NodeEnvironment;
  tenants: Map<string, NodeTenant>;
  connectors: Map<string, EhrConnector>;
  exchanges: Map<string, WorkflowExchange>;
  baseUrl(): string;
  /** Tries the notification at once (the outbox retries it later when this fails). */
  kick(taskId: string): Promise<void>;
  /** Where a handover already stored but not audited is raised. */
  alarm: StoredStepAlarm;
}

export interface HandoverInput {
  tenant: NodeTenant;
  exchange: string;
  receiverUra: string;
  bsn: string;
  /** Type/id references into the tenant's EHR. */
  inputs: string[];
  note?: string;
  user: { deziNumber: string; name?: string; roleCode: string };
  trace: TraceContext;
}

export interface SentTask {
  task: Task;
  delivery: { state: string; attempts: number; lastError?: string } | null;
}

const REF = /^([A-Z][A-Za-z]{1,40})\/([A-Za-z0-9\-.]{1,64})$/;

export function workflowDefinition(env: NodeEnvironment, code: string): ExchangeDefinition & { notifiedPull: NonNullable<ExchangeDefinition['notifiedPull']> } {
  const def = exchangeByCode(env.agreements(), code);
  if (!def?.notifiedPull) throw unprocessable(`the agreements offer no notified pull for exchange "${code}"`);
  return def as ExchangeDefinition & { notifiedPull: NonNullable<ExchangeDefinition['notifiedPull']> };
}

export function createSender(d: SenderDeps) {
  const fhirBase = (ura: string) => `${d.baseUrl()}/org/${ura}/fhir`;
  const names = (r: { tenantUra: string }) => ({ tenantName: d.tenants.get(r.tenantUra)?.name ?? r.tenantUra });
  const connector = (t: NodeTenant) => d.connectors.get(t.ura)!;

  async function patientOf(t: NodeTenant, id: string): Promise<{ bsn: string; display?: string }> {
    const p = await connector(t).read<Patient>('Patient', id);
    const bsn = p.identifier?.find((i) => i.system === SYSTEM.bsn)?.value;
    if (!bsn) throw new HttpError(502, 'transient', 'the patient record no longer carries a BSN');
    const n = p.name?.[0];
    return { bsn, display: n ? [n.given?.join(' '), n.family].filter(Boolean).join(' ') : undefined };
  }

  async function serve(t: NodeTenant, r: WorkflowTaskRecord): Promise<Task> {
    const def = workflowDefinition(d.env, r.exchange);
    const owner = await d.env.participant(r.ownerUra).catch(() => null);
    return workflowTask({ ...r, ownerName: owner?.name }, def.notifiedPull, await patientOf(t, r.patientId), fhirBase(t.ura));
  }

  async function create(h: HandoverInput): Promise<SentTask> {
    const def = workflowDefinition(d.env, h.exchange);
    const module = d.exchanges.get(def.code);
    if (!module) throw unprocessable(`this node has no module for ${def.code}`);
    if (!def.holderOrganizationTypes.includes(h.tenant.type)) throw forbidden(`organisation type ${h.tenant.type} does not send ${def.code}`);
    if (!/^\d{8}$/.test(h.receiverUra)) throw badRequest('receiver must be a URA (8 digits)');
    if (h.receiverUra === h.tenant.ura) throw badRequest('an organisation does not hand over to itself');
    // The receiver must take part in the exchange and be reachable for it: refused now, not
    // discovered later by a notification that can never be delivered.
    const receiver = await d.env.participant(h.receiverUra);
    if (!receiver) throw unprocessable(`no participant with URA ${h.receiverUra} in the trust register`);
    if (receiver.status !== 'admitted') throw unprocessable(`${receiver.name} is not an admitted participant`);
    const qualified = qualifiedAt(receiver.qualifications, def.code, Date.now());
    if (!qualified || !def.requesterOrganizationTypes.includes(receiver.type)) throw unprocessable(`${receiver.name} does not take part in ${def.code}`);
    const endpoint = await d.env.endpoint(h.receiverUra, def.code);
    if (!endpoint) throw unprocessable(`${receiver.name} offers no endpoint for ${def.code} in the care-services directory`);

    const refs = [...new Set(h.inputs)];
    if (refs.length === 0 || refs.length > 50) throw badRequest('name 1 to 50 resources to hand over');
    const patients = await connector(h.tenant).patientsByBsn(h.bsn);
    if (patients.length !== 1) throw unprocessable(patients.length ? 'the BSN names more than one patient record' : 'no patient with this BSN in the record system');
    const patientId = patients[0].id!;
    const resources: Resource[] = [];
    for (const ref of refs) {
      const m = REF.exec(ref);
      if (!m) throw badRequest(`not a Type/id reference: ${ref}`);
      if (!def.notifiedPull.resourceTypes.includes(m[1])) throw unprocessable(`${m[1]} is not handed over in ${def.code}`);
      const r = await connector(h.tenant)
        .read(m[1], m[2])
        .catch((e: Error) => {
          throw e instanceof EhrError && /404|410/.test(e.message) ? unprocessable(`${ref} is not in the record system`) : e;
        });
      if (patientIdOf(r) !== patientId) throw unprocessable(`${ref} is not about this patient`);
      resources.push(r);
    }
    const problems = module.checkInputs(resources);
    if (problems.length) throw unprocessable(problems.join('; '));

    const record = {
      id: randomUUID(),
      tenantUra: h.tenant.ura,
      exchange: def.code,
      ownerUra: h.receiverUra,
      patientId,
      status: 'requested' as const,
      inputs: refs,
      requester: { deziNumber: h.user.deziNumber, name: h.user.name, roleCode: h.user.roleCode },
      note: h.note?.slice(0, 500) || module.describe(resources),
    };
    await insertTaskWithNotification(d.store, record);
    await auditWorkflow(d.env, {
      tenant: h.tenant,
      user: h.user,
      clientId: h.tenant.ura,
      otherPartyUra: h.receiverUra,
      exchange: def.code,
      dataCategories: [...new Set(resources.map((r) => categoryOf(r, d.env.agreements())).filter((c): c is string => !!c))],
      interaction: 'create',
      query: `Task (handover to ${h.receiverUra})`,
      side: 'holder',
      outcome: 'success',
      description: `handover ${record.id} to ${receiver.name}: ${refs.length} resources`,
      patientRef: `Patient/${patientId}`,
      bsn: h.bsn,
      trace: h.trace,
    }, d.alarm);
    await d.kick(record.id).catch(() => {}); // the outbox keeps it when the receiver is down
    const stored = (await getTask(d.store, record.id, names))!;
    return { task: await serve(h.tenant, stored), delivery: await deliveryOf(d.store, record.id) };
  }

  async function sent(t: NodeTenant, id: string): Promise<SentTask> {
    const r = await getTask(d.store, id, names);
    if (!r || r.tenantUra !== t.ura) throw notFound(`no Task ${id} sent by this organisation`);
    return { task: await serve(t, r), delivery: await deliveryOf(d.store, id) };
  }

  /** The sender itself cancels (e.g. the discharge was called off). */
  async function cancel(t: NodeTenant, id: string, reason: string): Promise<SentTask> {
    const r = await getTask(d.store, id, names);
    if (!r || r.tenantUra !== t.ura) throw notFound(`no Task ${id} sent by this organisation`);
    if (!reason.trim()) throw badRequest('a cancelled Task needs a reason');
    if (!mayTransition('sender', r.status, 'cancelled') || !(await updateTaskStatus(d.store, id, r.status, 'cancelled', reason.trim(), []))) {
      throw new HttpError(409, 'conflict', `the Task is ${r.status}; it cannot be cancelled now`);
    }
    return sent(t, id);
  }

  return { create, sent, cancel, serve, fhirBase };
}

export type Sender = ReturnType<typeof createSender>;

/** The receiver's reads at the sender: the workflow Task, status changes, and named resources. */
export async function registerSenderRoutes(
  app: FastifyInstance,
  d: SenderDeps & { sender: Sender; verifyToken(request: FastifyRequest, tenant: NodeTenant): Promise<AccessTokenClaims> },
): Promise<void> {
  const tenantOf = (ura: string) => {
    const t = d.tenants.get(ura);
    if (!t) throw notFound(`this node serves no organisation with URA ${ura}`);
    return t;
  };
  const names = (r: { tenantUra: string }) => ({ tenantName: d.tenants.get(r.tenantUra)?.name ?? r.tenantUra });

  /**
   * Decides one access under a workflow Task, audits it either way, throws the refusal. The Task
   * is the one the token was granted for (authorization_details), or for a read of a Task itself
   * the one in the URL, which must then be the token's.
   */
  async function authorise(request: FastifyRequest, tenant: NodeTenant, urlTaskId: string | undefined, reference: string, interaction: 'read' | 'update') {
    const claims = await d.verifyToken(request, tenant);
    const basis = workflowTaskOf(claims);
    const taskId = urlTaskId ?? basis ?? '';
    const task = /^[A-Za-z0-9\-.]{1,64}$/.test(taskId) ? await getTask(d.store, taskId, names) : null;
    const requester = await d.env.participant(claims.sub);
    const exchange = task ? exchangeByCode(d.env.agreements(), task.exchange) : undefined;
    const decision = decidePull({
      task,
      basis,
      exchange,
      holderUra: tenant.ura,
      requester: {
        ura: claims.sub,
        type: requester?.type ?? '',
        status: requester?.status ?? 'unknown',
        qualifications: requester?.qualifications ?? [],
        scope: claims.scope,
        roleCode: claims.role_code,
        deziNumber: claims.dezi_number,
      },
      reference,
      now: new Date(),
    });
    // `stored`: the step's write is already made (a status change), so a missing event is an alarm, not a denial.
    const audit = (outcome: 'success' | 'minor-failure' | 'serious-failure', description: string, bsn?: string, categories?: string[], stored?: 'stored') =>
      auditWorkflow(d.env, {
        tenant,
        user: { deziNumber: claims.dezi_number, name: claims.name, roleCode: claims.role_code },
        clientId: claims.client_id ?? claims.sub,
        otherPartyUra: claims.sub,
        exchange: task?.exchange ?? 'none',
        dataCategories: categories,
        interaction,
        query: `${reference} (workflow Task ${taskId || 'none'})`,
        side: 'holder',
        outcome,
        description,
        patientRef: task ? `Patient/${task.patientId}` : undefined,
        bsn,
        trace: request.trace,
      }, stored ? d.alarm : undefined);
    if (!decision.allow) {
      const why = decision.reasons.map((r) => r.description).join('; ');
      // The patient is known only through a Task of this holder; a refusal without one names none.
      const bsn = task && task.tenantUra === tenant.ura ? await d.sender.serve(tenant, task).then((t) => t.for?.identifier?.value).catch(() => undefined) : undefined;
      await audit('minor-failure', `refused: ${why}`, bsn);
      throw forbidden(`access denied: ${why}`);
    }
    return { task: task!, claims, audit };
  }

  app.get<{ Params: { ura: string; id: string } }>('/org/:ura/fhir/Task/:id', async (request, reply) => {
    const tenant = tenantOf(request.params.ura);
    const { task, audit } = await authorise(request, tenant, request.params.id, `Task/${request.params.id}`, 'read');
    const served = await d.sender.serve(tenant, task);
    await audit('success', `workflow Task ${task.id} read`, served.for?.identifier?.value);
    return reply.type('application/fhir+json').send(served);
  });

  app.post<{ Params: { ura: string; id: string }; Body: unknown }>('/org/:ura/fhir/Task/:id/$status', async (request, reply) => {
    const tenant = tenantOf(request.params.ura);
    const update = parseStatusUpdate(request.body);
    const { task, audit } = await authorise(request, tenant, request.params.id, `Task/${request.params.id}`, 'update');
    if (!mayTransition('owner', task.status, update.status)) throw new HttpError(409, 'conflict', `the Task is ${task.status}; it cannot become ${update.status}`);
    if (!(await updateTaskStatus(d.store, task.id, task.status, update.status, update.reason, update.outputs))) {
      throw new HttpError(409, 'conflict', 'the Task changed meanwhile; read it again');
    }
    const served = await d.sender.serve(tenant, (await getTask(d.store, task.id, names))!);
    await audit('success', `workflow Task ${task.id}: ${task.status} → ${update.status}${update.reason ? ` (${update.reason})` : ''}`, served.for?.identifier?.value, undefined, 'stored');
    return reply.type('application/fhir+json').send(served);
  });

  // A read of one resource the workflow Task names; the Task is the one the token was granted for.
  app.get<{ Params: { ura: string; type: string; id: string } }>('/org/:ura/fhir/:type/:id', async (request, reply) => {
    const tenant = tenantOf(request.params.ura);
    const { type, id } = request.params;
    if (!/^[A-Z][A-Za-z]{1,40}$/.test(type) || !/^[A-Za-z0-9\-.]{1,64}$/.test(id)) throw notFound(`no such resource: ${type}/${id}`);
    const { task, audit } = await authorise(request, tenant, undefined, `${type}/${id}`, 'read');
    const bsn = (await d.sender.serve(tenant, task)).for?.identifier?.value;
    let resource: Resource;
    try {
      resource = await d.connectors.get(tenant.ura)!.read(type, id);
    } catch (err) {
      await audit('serious-failure', `record system: ${(err as Error).message}`, bsn);
      if (err instanceof EhrError) throw new EhrError(`the organisation's record system did not answer: ${err.message}`);
      throw err;
    }
    // Defence in depth: what the Task names must still be about the Task's patient.
    if (patientIdOf(resource) !== task.patientId) {
      await audit('minor-failure', `refused: ${type}/${id} is no longer about the Task's patient`, bsn);
      throw forbidden(`access denied: ${type}/${id} is not about the workflow Task's patient`);
    }
    const category = categoryOf(resource, d.env.agreements());
    await audit('success', `${type}/${id} under workflow Task ${task.id}`, bsn, category ? [category] : []);
    return reply.type('application/fhir+json').send(resource);
  });
}
