import { randomUUID } from 'node:crypto';
import type { Bundle, BundleEntry, MedicationRequest, OperationOutcome, Resource, Task } from '@medplum/fhirtypes';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { LdnError } from '../../kit/errors.ts';
import { forbidden, HttpError, notFound, unprocessable } from '../../kit/fhir/outcome.ts';
import { UpstreamError } from '../../kit/http/client.ts';
import { SYSTEM } from '../../kit/identifiers/systems.ts';
import { qualifiedAt } from '../../kit/rules/qualification.ts';
import type { Store } from '../../kit/store/store.ts';
import type { TraceContext } from '../../kit/trace.ts';
import { type AccessTokenClaims, exchangeByCode, TokenRequestError } from '../../trust/contract.ts';
import type { NodeEnvironment, NodeTenant } from '../environment.ts';
import type { EhrConnector } from '../source/ehr-connector.ts';
import { categoryOf } from '../source/referral-sync.ts';
import { auditWorkflow, type StoredStepAlarm } from './audit.ts';
import { organisationBaseOf, type WorkflowClients } from './clients.ts';
import { dispenseFor } from './exchanges/medicatieoverdracht.ts';
import { isBuildingBlock } from './exchanges/mp9.ts';
import { workflowDefinition } from './sender.ts';
import { getInbox, type InboxRecord, listInbox, receiveNotification, setInboxStatus } from './store.ts';
import { notificationTask, parseNotification, type StatusUpdate, statusParameters } from './task-resources.ts';
import { workflowTaskDetail } from './token-basis.ts';

// The receiver's side of notified pull: take a notification once, then, for a professional of
// the receiving organisation, read the workflow Task, accept or reject it, pull what it names
// (one read per named resource, under a token granted for the Task) and complete or cancel it. Each pull is
// audited here as requester; the sender audits it as holder.

export interface Professional {
  deziNumber: string;
  name?: string;
  roleCode: string;
  /** Her Dezi verklaring, presented to the sender's authorisation server. */
  verklaring: string;
}

export interface ReceiverDeps {
  store: Store;
  env: NodeEnvironment;
  tenants: Map<string, NodeTenant>;
  connectors: Map<string, EhrConnector>;
  clients: WorkflowClients;
  /** Where a status change already made at the sender but not audited is raised. */
  alarm: StoredStepAlarm;
}

export interface Handover {
  notification: InboxRecord;
  task: Task;
  /** Everything pulled (the Task's inputs), each with the sender's URL as fullUrl. */
  bundle: Bundle;
  refused: string[];
}

function outcomeText(body: unknown, status: number): string {
  const oo = body as OperationOutcome | undefined;
  return oo?.issue?.map((i) => i.diagnostics).filter(Boolean).join('; ') || `HTTP ${status}`;
}

export function createReceiver(d: ReceiverDeps) {
  async function notificationOf(tenant: NodeTenant, id: string): Promise<InboxRecord> {
    const n = /^[A-Za-z0-9-]{1,64}$/.test(id) ? await getInbox(d.store, tenant.ura, id) : null;
    if (!n) throw notFound(`no notification ${id} for this organisation`);
    return n;
  }

  /**
   * A call at the sender's node on the professional's behalf, with a token whose authorisation
   * basis is the notified workflow Task (authorization_details); the sender's refusal becomes ours.
   */
  async function atSender<T>(tenant: NodeTenant, n: InboxRecord, url: string, user: Professional, trace: TraceContext, init: { method?: string; body?: unknown } = {}): Promise<T> {
    const def = workflowDefinition(d.env, n.exchange);
    const base = organisationBaseOf(n.taskUrl);
    const taskId = n.taskUrl.slice(n.taskUrl.lastIndexOf('/') + 1);
    try {
      const r = await d.clients.of(tenant).call<T>(url, {
        ...init,
        scope: def.scopes[0],
        resource: base,
        authorizationDetails: [workflowTaskDetail(taskId, base)],
        userAssertion: user.verklaring,
        trace,
      });
      if (r.status >= 200 && r.status < 300) return r.body;
      throw new HttpError(r.status === 403 || r.status === 409 || r.status === 404 ? r.status : 502, r.status === 403 ? 'forbidden' : 'transient', `the sender answered: ${outcomeText(r.body, r.status)}`);
    } catch (err) {
      if (err instanceof LdnError) throw err;
      if (err instanceof TokenRequestError) throw forbidden(`the sender's node refused a token: ${err.description}`);
      if (err instanceof UpstreamError) throw new HttpError(err.status === 504 ? 504 : 502, 'transient', `the sender's node did not answer: ${err.message}`);
      throw new HttpError(502, 'transient', `the sender's node could not be reached: ${(err as Error).message}`);
    }
  }

  const bsnOf = (task: Task) => (task.for?.identifier?.system === SYSTEM.bsn ? task.for.identifier.value : undefined);

  async function readTask(tenant: NodeTenant, id: string, user: Professional, trace: TraceContext): Promise<{ notification: InboxRecord; task: Task }> {
    const n = await notificationOf(tenant, id);
    const task = await atSender<Task>(tenant, n, n.taskUrl, user, trace);
    if (task?.resourceType !== 'Task' || task.owner?.identifier?.value !== tenant.ura) throw new HttpError(502, 'transient', 'the sender answered with another Task than the one notified');
    if (task.status !== n.status) await setInboxStatus(d.store, n.id, task.status as InboxRecord['status']);
    return { notification: { ...n, status: task.status as InboxRecord['status'] }, task };
  }

  async function setStatus(tenant: NodeTenant, id: string, update: StatusUpdate, user: Professional, trace: TraceContext): Promise<Task> {
    const n = await notificationOf(tenant, id);
    const task = await atSender<Task>(tenant, n, `${n.taskUrl}/$status`, user, trace, { method: 'POST', body: statusParameters(update) });
    await setInboxStatus(d.store, n.id, task.status as InboxRecord['status']);
    const bsn = bsnOf(task);
    await auditWorkflow(d.env, {
      tenant,
      user,
      clientId: tenant.ura,
      otherPartyUra: n.senderUra,
      exchange: n.exchange,
      interaction: 'update',
      query: `Task/${task.id}/$status`,
      side: 'requester',
      outcome: 'success',
      description: `workflow Task → ${update.status}${update.reason ? ` (${update.reason})` : ''}`,
      bsn: bsn && /^\d{9}$/.test(bsn) ? bsn : undefined,
      trace,
    }, d.alarm);
    return task;
  }

  /** Pulls what the workflow Task names (the patient and every input), one audited read each. */
  async function open(tenant: NodeTenant, id: string, user: Professional, trace: TraceContext): Promise<Handover> {
    const { notification, task } = await readTask(tenant, id, user, trace);
    const refs = [task.for?.reference, ...(task.input ?? []).map((i) => i.valueReference?.reference)].filter((r): r is string => typeof r === 'string');
    const base = `${organisationBaseOf(notification.taskUrl)}/fhir/`;
    const entries: BundleEntry[] = [];
    const refused: string[] = [];
    const categories = new Set<string>();
    await Promise.all(
      refs.map(async (url) => {
        // Only what lives at the sender's own interface is fetched: a Task naming anything else is not followed.
        if (!url.startsWith(base)) {
          refused.push(`${url}: not at the sender's interface`);
          return;
        }
        try {
          const r = await atSender<Resource>(tenant, notification, url, user, trace);
          entries.push({ fullUrl: url, resource: r });
          const c = categoryOf(r, d.env.agreements());
          if (c) categories.add(c);
        } catch (err) {
          refused.push(`${url.slice(base.length)}: ${(err as Error).message}`);
        }
      }),
    );
    const bsn = bsnOf(task);
    await auditWorkflow(d.env, {
      tenant,
      user,
      clientId: tenant.ura,
      otherPartyUra: notification.senderUra,
      exchange: notification.exchange,
      dataCategories: [...categories],
      interaction: 'read',
      query: `Task/${task.id} (${refs.length} named resources)`,
      side: 'requester',
      outcome: refused.length === 0 ? 'success' : entries.length ? 'minor-failure' : 'serious-failure',
      description: `${entries.length} of ${refs.length} pulled${refused.length ? `; refused: ${refused.join('; ')}` : ''}`,
      bsn: bsn && /^\d{9}$/.test(bsn) ? bsn : undefined,
      trace,
    });
    const order = (e: BundleEntry) => refs.indexOf(e.fullUrl ?? '');
    entries.sort((a, b) => order(a) - order(b));
    return { notification, task, bundle: { resourceType: 'Bundle', type: 'collection', entry: [{ fullUrl: notification.taskUrl, resource: task }, ...entries] }, refused };
  }

  /**
   * Medicatieoverdracht: the pharmacy dispenses what the dispense request asks, records it in its
   * own record system and completes the Task with the dispense as output.
   */
  async function dispense(tenant: NodeTenant, id: string, user: Professional, trace: TraceContext, publicBase: string): Promise<{ task: Task; dispense: Resource }> {
    const handover = await open(tenant, id, user, trace);
    if (handover.notification.exchange !== 'medicatieoverdracht') throw unprocessable('only a prescription is dispensed');
    const found = handover.bundle.entry?.find((e) => e.resource?.resourceType === 'MedicationRequest' && isBuildingBlock(e.resource, 'dispenseRequest'));
    if (!found?.resource) throw unprocessable(`the dispense request could not be pulled${handover.refused.length ? `: ${handover.refused.join('; ')}` : ''}`);
    const bsn = bsnOf(handover.task);
    const connector = d.connectors.get(tenant.ura)!;
    const [patient] = bsn ? await connector.patientsByBsn(bsn) : [];
    if (!patient?.id) throw unprocessable('the patient has no record at this pharmacy yet; register the patient first');
    const created = await connector.create(dispenseFor(found.resource as MedicationRequest, found.fullUrl!, { reference: `Patient/${patient.id}` }, new Date().toISOString()));
    const task = await setStatus(tenant, id, { status: 'completed', outputs: [`${publicBase}/org/${tenant.ura}/fhir/MedicationDispense/${created.id}`] }, user, trace);
    return { task, dispense: created };
  }

  return { notificationOf, readTask, setStatus, open, dispense, list: (t: NodeTenant) => listInbox(d.store, t.ura) };
}

export type Receiver = ReturnType<typeof createReceiver>;

/** The notification endpoint: `POST [org]/fhir/Task` with a notification Task, sender's certificate and token. */
export async function registerNotificationRoute(
  app: FastifyInstance,
  d: ReceiverDeps & { verifyToken(request: FastifyRequest, tenant: NodeTenant): Promise<AccessTokenClaims> },
): Promise<void> {
  app.post<{ Params: { ura: string }; Body: unknown }>('/org/:ura/fhir/Task', async (request, reply) => {
    const tenant = d.tenants.get(request.params.ura);
    if (!tenant) throw notFound(`this node serves no organisation with URA ${request.params.ura}`);
    const claims = await d.verifyToken(request, tenant);
    const n = parseNotification(request.body);
    if (n.receiverUra !== tenant.ura) throw unprocessable(`the notification is addressed to ${n.receiverUra}, not to this organisation`);
    if (n.senderUra !== claims.sub) throw forbidden('the notification names another sender than the caller');
    const def = exchangeByCode(d.env.agreements(), n.exchange);
    if (!def?.notifiedPull) throw unprocessable(`the agreements offer no notified pull for "${n.exchange}"`);
    if (!claims.scope.split(' ').includes(def.notifiedPull.notificationScope)) throw forbidden(`the access token does not carry ${def.notifiedPull.notificationScope}`);
    // This organisation must take part in the exchange as receiver.
    const self = await d.env.participant(tenant.ura);
    const now = Date.now();
    const offered =
      def.requesterOrganizationTypes.includes(tenant.type) &&
      qualifiedAt(self?.qualifications ?? [], def.code, now);
    if (!offered) throw unprocessable(`${tenant.name} does not receive ${def.code}`);
    // The workflow Task must live at the sender's own interface for the exchange (directory).
    const senderEndpoint = await d.env.endpoint(n.senderUra, n.exchange);
    if (!senderEndpoint || !n.taskUrl.startsWith(`${senderEndpoint.address}/Task/`)) {
      throw unprocessable('the workflow Task is not at the sender\'s interface for this exchange in the care-services directory');
    }
    const { record, created } = await receiveNotification(d.store, {
      id: randomUUID(),
      tenantUra: tenant.ura,
      senderUra: n.senderUra,
      exchange: n.exchange,
      taskUrl: n.taskUrl,
      description: n.description,
    });
    request.log.info({ tenant: tenant.ura, sender: n.senderUra, exchange: n.exchange, created }, 'pull notification received');
    const stored = { ...notificationTask({ ...n, description: record.description }), id: record.id };
    return reply.code(created ? 201 : 200).type('application/fhir+json').send(stored);
  });
}
