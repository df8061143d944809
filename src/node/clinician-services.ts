import type { Bundle, Resource, Task } from '@medplum/fhirtypes';
import type { FastifyInstance } from 'fastify';
import { forbidden } from '../kit/fhir/outcome.ts';
import { newTrace, type TraceContext } from '../kit/trace.ts';
import { exchangeByCode } from '../trust/contract.ts';
import { overviewRefusal } from './consumer/overview-operation.ts';
import type { NodeTenant } from './environment.ts';
import { type ForeignSummaryService, foreignSummaryService } from './foreign-summary.ts';
import { createImagePreviewer } from './imaging/preview.ts';
import type { NodeRuntime } from './part.ts';
import type { Handover } from './workflow/receiver.ts';
import type { InboxRecord } from './workflow/store.ts';
import type { StatusUpdate } from './workflow/task-resources.ts';

// What the node offers a screen for its own clinicians (the sandbox's clinician viewer, in
// src/portals/clinician/, mounted by whoever composes node and portals through the node's
// extensions hook): each service takes the clinician as her login names her and decides here, on
// the node, whether it serves her organisation and what she may do. The overview goes through the
// same operation as Patient/$overview (consumer/overview-operation.ts).

/** The clinician as her login (the Dezi-like provider's id_token) names her. */
export interface ClinicianLogin {
  name: string;
  deziNumber?: string;
  roleCode?: string;
  /** URA of the organisation she logged in for. */
  ura?: string;
  /** Her signed Dezi verklaring. */
  verklaring?: string;
}

/** An exchange she may ask an overview for. */
export interface ClinicianExchange {
  code: string;
  name: { nl: string; en: string };
  emergencyAccess: boolean;
}

/** The handovers sent to her organisation (notified pull), as she may handle them. */
export interface HandoverDesk {
  organisation: { ura: string; name: string };
  list(): Promise<InboxRecord[]>;
  readTask(id: string, trace: TraceContext): Promise<{ notification: InboxRecord; task: Task }>;
  setStatus(id: string, update: StatusUpdate, trace: TraceContext): Promise<Task>;
  open(id: string, trace: TraceContext): Promise<Handover>;
  dispense(id: string, trace: TraceContext): Promise<{ task: Task; dispense: Resource }>;
}

export interface ClinicianServices {
  /** The node's name (its viewer's client at the identity part is named after it). */
  nodeName: string;
  /** The node's public base URL. */
  publicBase(): string;
  /** The Dezi-like identity provider's address (resolved on use: it may start after the node). */
  identityProvider(): string;
  /** The network CA the node trusts. */
  ca: string;
  servesOrganisation(ura: string): boolean;
  /** The exchanges she may ask an overview for. */
  exchangesFor(who: ClinicianLogin): ClinicianExchange[];
  /** Whether an exchange's overview covers images. */
  coversImages(exchange: string): boolean;
  overview(input: { session: ClinicianLogin; bsn: string; exchange: string; emergencyReason?: string; trace?: TraceContext }): Promise<{
    bundle: Bundle;
    holders: Array<{ name: string; status: string }>;
  }>;
  imagePreview(input: { session: ClinicianLogin; holderUra: string; exchange: string; study: string; series?: string; trace?: TraceContext }): Promise<{
    contentType: string;
    body: Buffer;
  }>;
  /** A patient from abroad, through NCPeH-NL (foreign-summary.ts). */
  foreignSummary: ForeignSummaryService;
  /** Her organisation's handovers; undefined when her login does not let her act for one this node serves. */
  handovers(who: ClinicianLogin): HandoverDesk | undefined;
  /** An exchange's Dutch name from the agreements (its code when unknown). */
  exchangeName(code: string): string;
  /** A participant's name from the trust register, when known. */
  participantName(ura: string): Promise<string | undefined>;
}

/** Services for clinicians built on the running node; what they hold open is closed with `app`. */
export function clinicianServices(app: FastifyInstance, runtime: NodeRuntime, nodeName: string): ClinicianServices {
  const { env, tenants } = runtime;
  const servedTenant = (who: ClinicianLogin): NodeTenant => {
    const tenant = who.ura ? tenants.get(who.ura) : undefined;
    if (!tenant) throw forbidden('this node does not serve the organisation you are logged in for');
    return tenant;
  };
  const previewer = createImagePreviewer(env);
  app.addHook('onClose', () => previewer.close());
  const foreign = foreignSummaryService({ network: runtime.ctx.network, tenants });
  app.addHook('onClose', () => foreign.close());

  return {
    nodeName,
    publicBase: () => runtime.ctx.baseUrl,
    identityProvider: () => runtime.ctx.network.url('identity'),
    ca: runtime.ctx.tls.ca,
    servesOrganisation: (ura) => tenants.has(ura),
    exchangesFor(who) {
      const tenant = who.ura ? tenants.get(who.ura) : undefined;
      return (
        env
          .agreements()
          // Only what this clinician may request, as the overview operation decides it: her role and
          // her organisation's type (never the citizen's own access, which names no professional role).
          .exchanges.filter((e) => who.roleCode !== undefined && tenant !== undefined && overviewRefusal(e, who.roleCode, tenant.type, false) === undefined)
          // An exchange whose only basis is the treatment relationship a workflow Task establishes
          // (eOverdracht) is never answered to a search: it is reached through the handovers.
          .filter((e) => e.legalBasis.some((b) => b !== 'treatment-relationship'))
          .map((e) => ({ code: e.code, name: e.name, emergencyAccess: e.emergencyAccess }))
      );
    },
    coversImages: (code) => env.agreements().exchanges.some((e) => e.code === code && e.queries.some((q) => q.resourceType === 'ImagingStudy')),
    async overview(input) {
      const s = input.session;
      const tenant = servedTenant(s);
      if (!s.verklaring || !s.deziNumber || !s.roleCode) throw forbidden('your login carries no Dezi verklaring');
      const caller = { tenant, user: { deziNumber: s.deziNumber, roleCode: s.roleCode, name: s.name, ura: tenant.ura }, verklaring: s.verklaring };
      const result = await runtime.overview.run(caller, { bsn: input.bsn, exchange: input.exchange, emergencyReason: input.emergencyReason, trace: input.trace ?? newTrace() });
      return { bundle: result.bundle, holders: result.holders.map((h) => ({ name: h.name, status: h.status })) };
    },
    async imagePreview(input) {
      const tenant = servedTenant(input.session);
      if (!input.session.verklaring) throw forbidden('your login carries no Dezi verklaring for this node');
      const { holderUra, exchange, study, series, trace } = input;
      return previewer.fetch({ tenant, verklaring: input.session.verklaring, holderUra, exchange, study, series, trace });
    },
    foreignSummary: foreign,
    handovers(who) {
      const tenant = who.ura ? tenants.get(who.ura) : undefined;
      if (!tenant || !who.verklaring || !who.deziNumber || !who.roleCode) return undefined;
      const user = { deziNumber: who.deziNumber, name: who.name, roleCode: who.roleCode, verklaring: who.verklaring };
      const receiver = runtime.workflow.receiver;
      return {
        organisation: { ura: tenant.ura, name: tenant.name },
        list: () => receiver.list(tenant),
        readTask: (id, trace) => receiver.readTask(tenant, id, user, trace),
        setStatus: (id, update, trace) => receiver.setStatus(tenant, id, update, user, trace),
        open: (id, trace) => receiver.open(tenant, id, user, trace),
        dispense: (id, trace) => receiver.dispense(tenant, id, user, trace, runtime.ctx.baseUrl),
      };
    },
    exchangeName: (code) => exchangeByCode(env.agreements(), code)?.name.nl ?? code,
    participantName: async (ura) => (await env.participant(ura).catch(() => null))?.name,
  };
}
