import type { FastifyInstance } from 'fastify';
import type { ClinicianServices } from '../../node/contract.ts';
import { callbackUrlOf, type LoginProvider, openIdLogin } from '../oidc.ts';
import { MemorySessionStore } from '../sessions.ts';
import { registerHandoverPages } from './handover-pages.ts';
import { clinicianViewerPlugin } from './plugin.ts';

// The clinician viewer on a participant node, for the clinicians of the organisations it serves:
// whoever composes node and portals (the sandbox, `ldn serve node` with viewer=true) registers
//   extensions: [(app, node) => mountClinicianViewer(app, node)], extraPublicPaths: [VIEWER_BASE]
// She logs in with the Dezi-like provider, and every page asks the node's services for
// clinicians (node/contract.ts) with her login; the node decides. The provider's address is
// resolved on first use (it may start after the node).

export const VIEWER_BASE = '/viewer';

/** The viewer's OIDC client at the identity part. */
export function viewerClientId(nodeName: string): string {
  return `viewer-${nodeName}`;
}

export async function mountClinicianViewer(app: FastifyInstance, node: ClinicianServices): Promise<void> {
  const redirectUri = () => `${node.publicBase()}${VIEWER_BASE}/callback`;
  let login: LoginProvider | undefined;
  const provider = () =>
    (login ??= openIdLogin({
      issuerUrl: node.identityProvider(),
      clientId: viewerClientId(node.nodeName),
      redirectUri: redirectUri(),
      ca: node.ca,
      authParams: { prompt: 'login' },
    }));
  const lazyLogin: LoginProvider = {
    begin: () => provider().begin(),
    complete: (url, pending) => provider().complete(callbackUrlOf(redirectUri(), `${url.pathname}${url.search}`), pending),
  };
  // One session store for the viewer and its handover pages (notified pull).
  const sessions = new MemorySessionStore();
  await app.register(async (scope) => {
    await clinicianViewerPlugin(scope, {
      basePath: VIEWER_BASE,
      sessions,
      oidc: lazyLogin,
      servesOrganisation: (ura) => node.servesOrganisation(ura),
      handoversPath: `${VIEWER_BASE}/overdrachten`,
      foreignSummary: node.foreignSummary,
      exchanges: (who) => node.exchangesFor(who),
      coversImages: (code) => node.coversImages(code),
      imagePreview: (input) => node.imagePreview(input),
      overview: (input) => node.overview(input),
    });
    await registerHandoverPages(scope, { basePath: VIEWER_BASE, sessions, node });
  });
}
