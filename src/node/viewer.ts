import type { FastifyInstance } from 'fastify';
import { forbidden } from '../kit/fhir/outcome.ts';
import type { NetworkView } from '../kit/part.ts';
import { newTrace } from '../kit/trace.ts';
import { clinicianViewerPlugin } from '../portals/clinician/plugin.ts';
import { callbackUrlOf, type LoginProvider, openIdLogin } from '../portals/oidc.ts';
import type { NodeRuntime } from './part.ts';

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
  await app.register(async (scope) => {
    await clinicianViewerPlugin(scope, {
      basePath: VIEWER_BASE,
      oidc: lazyLogin,
      servesOrganisation: (ura) => runtime.tenants.has(ura),
      exchanges: (who) => {
        const tenant = who.ura ? runtime.tenants.get(who.ura) : undefined;
        return (
          runtime.env
            .agreements()
            // Only what this clinician may request: her role and her organisation's type are
            // allowed (never the citizen's own access, which names no professional role).
            .exchanges.filter((e) => who.roleCode !== undefined && e.requesterRoles.includes(who.roleCode))
            .filter((e) => tenant !== undefined && e.requesterOrganizationTypes.includes(tenant.type))
            .map((e) => ({ code: e.code, name: e.name, emergencyAccess: e.emergencyAccess }))
        );
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
  });
}
