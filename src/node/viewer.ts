import type { FastifyInstance } from 'fastify';
import { forbidden } from '../kit/fhir/outcome.ts';
import type { NetworkView } from '../kit/part.ts';
import { newTrace } from '../kit/trace.ts';
import { clinicianViewerPlugin } from '../portals/clinician/plugin.ts';
import { callbackUrlOf, type LoginProvider, openIdLogin } from '../portals/oidc.ts';
import { createImagePreviewer } from './imaging/preview.ts';
import { MemorySessionStore } from '../portals/sessions.ts';
import { registerHandoverPages } from './workflow/viewer-pages.ts';
import type { NodeRuntime } from './part.ts';
import { foreignSummaryPort } from './foreign-summary.ts';

// The clinician viewer is served by the node of the clinician's own organisation: she logs in
// with the Dezi-like provider, and the viewer calls the node's data-integration function with
// her verklaring. The provider's address is resolved on first use (it may start after us).

export const VIEWER_BASE = '/viewer';

export function viewerClientId(nodeName: string): string {
  return `viewer-${nodeName}`;
}

export async function mountClinicianViewer(
  app: FastifyInstance,
  runtime: NodeRuntime,
  options: { nodeName: string; network: NetworkView },
): Promise<void> {
  const redirectUri = () => `${runtime.ctx.baseUrl}${VIEWER_BASE}/callback`;
  let login: LoginProvider | undefined;
  const provider = () =>
    (login ??= openIdLogin({
      issuerUrl: options.network.url('identity'),
      clientId: viewerClientId(options.nodeName),
      redirectUri: redirectUri(),
      ca: runtime.ctx.tls.ca,
      authParams: { prompt: 'login' },
    }));
  const lazyLogin: LoginProvider = {
    begin: () => provider().begin(),
    complete: (url, pending) => provider().complete(callbackUrlOf(redirectUri(), `${url.pathname}${url.search}`), pending),
  };
  const previewer = createImagePreviewer(runtime.env);
  app.addHook('onClose', () => previewer.close());
  // One session store for the viewer and its handover pages (notified pull, src/node/workflow/).
  const sessions = new MemorySessionStore();
  // A patient from abroad: through NCPeH-NL (foreign-summary.ts).
  const foreign = foreignSummaryPort({ network: options.network, tenants: runtime.tenants });
  app.addHook('onClose', () => foreign.close());
  await app.register(async (scope) => {
    await clinicianViewerPlugin(scope, {
      basePath: VIEWER_BASE,
      sessions,
      oidc: lazyLogin,
      servesOrganisation: (ura) => runtime.tenants.has(ura),
      handoversPath: `${VIEWER_BASE}/overdrachten`,
      foreignSummary: foreign,
      exchanges: (who) => {
        const tenant = who.ura ? runtime.tenants.get(who.ura) : undefined;
        return (
          runtime.env
            .agreements()
            // Only what this clinician may request: her role and her organisation's type are
            // allowed (never the citizen's own access, which names no professional role).
            .exchanges.filter((e) => who.roleCode !== undefined && e.requesterRoles.includes(who.roleCode))
            .filter((e) => tenant !== undefined && e.requesterOrganizationTypes.includes(tenant.type))
            // An exchange whose only basis is the treatment relationship a workflow Task establishes
            // (eOverdracht) is never answered to a search: it is reached through /viewer/overdrachten.
            .filter((e) => e.legalBasis.some((b) => b !== 'treatment-relationship'))
            .map((e) => ({ code: e.code, name: e.name, emergencyAccess: e.emergencyAccess }))
        );
      },
      coversImages: (code) => runtime.env.agreements().exchanges.some((e) => e.code === code && e.queries.some((q) => q.resourceType === 'ImagingStudy')),
      imagePreview: async (input) => {
        const s = input.session;
        const tenant = s.ura ? runtime.tenants.get(s.ura) : undefined;
        if (!tenant || !s.verklaring) throw forbidden('your login carries no Dezi verklaring for this node');
        return previewer.fetch({ tenant, verklaring: s.verklaring, holderUra: input.holderUra, exchange: input.exchange, study: input.study, series: input.series, trace: input.trace });
      },
      overview: async (input) => {
        const s = input.session;
        const tenant = s.ura ? runtime.tenants.get(s.ura) : undefined;
        if (!tenant) throw forbidden('this node does not serve the organisation you are logged in for');
        if (!s.verklaring || !s.deziNumber || !s.roleCode) throw forbidden('your login carries no Dezi verklaring');
        const result = await runtime.overview.overview({
          tenant,
          bsn: input.bsn,
          exchange: input.exchange,
          user: { deziNumber: s.deziNumber, roleCode: s.roleCode, name: s.name, ura: tenant.ura },
          verklaring: s.verklaring,
          emergencyReason: input.emergencyReason,
          trace: input.trace ?? newTrace(),
        });
        return { bundle: result.bundle, holders: result.holders.map((h) => ({ name: h.name, status: h.status })) };
      },
    });
    await registerHandoverPages(scope, {
      basePath: VIEWER_BASE,
      sessions,
      tenants: runtime.tenants,
      env: runtime.env,
      receiver: runtime.workflow.receiver,
      publicBase: () => runtime.ctx.baseUrl,
    });
  });
}
