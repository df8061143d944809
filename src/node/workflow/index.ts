import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { PartContext } from '../../kit/part.ts';
import type { AccessTokenClaims } from '../../trust/contract.ts';
import type { NodeEnvironment, NodeTenant } from '../environment.ts';
import type { EhrConnector } from '../source/ehr-connector.ts';
import { WorkflowClients } from './clients.ts';
import { eoverdracht } from './exchanges/eoverdracht.ts';
import { medicatieoverdracht } from './exchanges/medicatieoverdracht.ts';
import type { WorkflowExchange } from './exchanges/types.ts';
import { startNotifier } from './notifier.ts';
import { registerWorkflowOrgApi } from './org-api.ts';
import { auditMissingCounter } from '../metrics.ts';
import { createReceiver, type Receiver, registerNotificationRoute } from './receiver.ts';
import { createSender, registerSenderRoutes, type Sender } from './sender.ts';

// Notified pull in the node: the mechanism once (sender, outbox, receiver, pull policy), one
// module per exchange for what differs (exchanges/).

export { workflowMigrations } from './migrations.ts';

const EXCHANGES: WorkflowExchange[] = [eoverdracht, medicatieoverdracht];

export interface Workflow {
  sender: Sender;
  receiver: Receiver;
  /** Delivers every due notification now (tests, the sandbox). */
  deliverDue(): Promise<void>;
  stop(): Promise<void>;
}

export async function registerWorkflow(
  app: FastifyInstance,
  o: {
    ctx: PartContext;
    env: NodeEnvironment;
    tenants: Map<string, NodeTenant>;
    connectors: Map<string, EhrConnector>;
    verifyToken(request: FastifyRequest, tenant: NodeTenant): Promise<AccessTokenClaims>;
    notifyIntervalMs?: number;
  },
): Promise<Workflow> {
  const clients = new WorkflowClients();
  const baseUrl = () => o.ctx.baseUrl;
  const fhirBase = (ura: string) => `${baseUrl()}/org/${ura}/fhir`;
  const notifier = startNotifier({ store: o.ctx.store, env: o.env, tenants: o.tenants, clients, fhirBase, log: o.ctx.log, intervalMs: o.notifyIntervalMs });
  const alarm = { log: o.ctx.log, missing: auditMissingCounter(o.ctx.metrics) };
  const deps = { store: o.ctx.store, env: o.env, tenants: o.tenants, connectors: o.connectors, exchanges: new Map(EXCHANGES.map((e) => [e.code, e])), baseUrl, kick: notifier.kick, alarm };
  const sender = createSender(deps);
  const receiver = createReceiver({ store: o.ctx.store, env: o.env, tenants: o.tenants, connectors: o.connectors, clients, alarm });
  await registerSenderRoutes(app, { ...deps, sender, verifyToken: o.verifyToken });
  await registerNotificationRoute(app, { store: o.ctx.store, env: o.env, tenants: o.tenants, connectors: o.connectors, clients, alarm, verifyToken: o.verifyToken });
  await registerWorkflowOrgApi(app, { env: o.env, tenants: o.tenants, sender, receiver, verifyToken: o.verifyToken, baseUrl });
  return {
    sender,
    receiver,
    deliverDue: () => notifier.runOnce(),
    async stop() {
      await notifier.stop();
      await clients.close();
    },
  };
}
