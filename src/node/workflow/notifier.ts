import type { Logger } from 'pino';
import type { OperationOutcome } from '@medplum/fhirtypes';
import { UpstreamError } from '../../kit/http/client.ts';
import type { Store } from '../../kit/store/store.ts';
import { TokenRequestError } from '../../trust/contract.ts';
import type { NodeEnvironment, NodeTenant } from '../environment.ts';
import { organisationBaseOf, type WorkflowClients } from './clients.ts';
import { workflowDefinition } from './sender.ts';
import { claimDue, getTask, markDelivered, markFailed, markRetry } from './store.ts';
import { notificationTask } from './task-resources.ts';

// The notification outbox: every workflow Task has one row, written with it. A worker posts the
// notification Task to the receiver's endpoint for the exchange (from the directory) over mTLS
// with an organisation token. The receiver keeps one handover per workflow Task, so a resend
// after a lost answer is harmless; a receiver that is down is tried again with backoff; a
// receiver that refuses (4xx) is not retried, and the sender sees why.

export interface NotifierOptions {
  store: Store;
  env: NodeEnvironment;
  tenants: Map<string, NodeTenant>;
  clients: WorkflowClients;
  fhirBase(ura: string): string;
  log: Logger;
  intervalMs?: number;
  /** Longest wait between attempts (ms). */
  maxBackoffMs?: number;
}

const LEASE_MS = 30_000;
const PERMANENT = (status: number) => status >= 400 && status < 500 && ![401, 408, 425, 429].includes(status);

export function backoffMs(attempts: number, maxMs: number): number {
  return Math.min(maxMs, 500 * 2 ** Math.min(attempts, 16));
}

export function startNotifier(o: NotifierOptions) {
  const maxBackoff = o.maxBackoffMs ?? 60_000;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let running: Promise<void> | null = null;

  async function deliver(taskId: string, attempts: number): Promise<void> {
    const task = await getTask(o.store, taskId, (r) => ({ tenantName: o.tenants.get(r.tenantUra)?.name ?? r.tenantUra }));
    const tenant = task && o.tenants.get(task.tenantUra);
    if (!task || !tenant) return markFailed(o.store, taskId, 'the Task or its organisation is gone');
    try {
      const def = workflowDefinition(o.env, task.exchange);
      const endpoint = await o.env.endpoint(task.ownerUra, task.exchange);
      if (!endpoint) throw new Error(`no endpoint for ${task.exchange} of ${task.ownerUra} in the directory`);
      const r = await o.clients.of(tenant).call<OperationOutcome>(`${endpoint.address}/Task`, {
        method: 'POST',
        body: notificationTask({ senderUra: tenant.ura, receiverUra: task.ownerUra, exchange: task.exchange, taskUrl: `${o.fhirBase(tenant.ura)}/Task/${task.id}`, description: task.note }),
        scope: def.notifiedPull.notificationScope,
        resource: organisationBaseOf(endpoint.address),
        deadlineMs: 10_000,
      });
      if (r.status === 200 || r.status === 201) return markDelivered(o.store, taskId);
      const why = `HTTP ${r.status}: ${r.body?.issue?.map((i) => i.diagnostics).join('; ') ?? r.text.slice(0, 200)}`;
      if (PERMANENT(r.status)) return markFailed(o.store, taskId, why);
      return markRetry(o.store, taskId, why, backoffMs(attempts, maxBackoff));
    } catch (err) {
      const why = err instanceof TokenRequestError ? `token refused: ${err.description}` : err instanceof UpstreamError ? err.message : (err as Error).message;
      // A token the receiver's node refuses outright (400/403) will be refused again.
      if (err instanceof TokenRequestError && PERMANENT(err.status)) return markFailed(o.store, taskId, why);
      o.log.warn({ task: taskId, err: why }, 'notification not delivered; will retry');
      return markRetry(o.store, taskId, why, backoffMs(attempts, maxBackoff));
    }
  }

  async function pass(only?: string): Promise<void> {
    const due = await claimDue(o.store, 20, LEASE_MS, only);
    await Promise.all(due.map((row) => deliver(row.taskId, row.attempts)));
  }

  const tick = () => {
    if (stopped) return;
    running = pass()
      .catch((err) => o.log.error({ err }, 'notification outbox pass failed'))
      .finally(() => {
        running = null;
        if (!stopped) timer = setTimeout(tick, o.intervalMs ?? 1000).unref();
      });
  };
  timer = setTimeout(tick, o.intervalMs ?? 1000).unref();

  return {
    /** Tries one Task's notification now (after the handover is written). */
    kick: (taskId: string) => pass(taskId),
    runOnce: () => pass(),
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
    },
  };
}
