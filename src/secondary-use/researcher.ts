import { decodeJwt } from 'jose';
import type { Peer, PartContext } from '../kit/part.ts';
import type { PartClient } from '../kit/http/client.ts';
import { forbidden, HttpError } from '../kit/fhir/outcome.ts';
import { type ClientContext, verklaringVerifier } from '../trust/contract.ts';
import { RESEARCHER_VERKLARING_HEADER } from './contract.ts';
import { hdabSettingsOf } from './serve-settings.ts';

// Who is calling the HDAB. A research organisation calls with its own certificate (its systems),
// the operator with the operator's. A researcher at a research organisation works in the portal:
// she logs in with the professional identity provider (a person bound to her organisation, as a
// clinician is to a hospital), and the portal calls the HDAB with its own certificate and her
// verklaring in a header. The HDAB believes that header only from the portal's certificate,
// verifies the verklaring itself (the identity provider's signature, not expired or revoked) and
// then acts for the organisation the verklaring names, which must be an admitted research
// organisation. The portal never holds the research organisation's key, and a verklaring taken
// from the portal is of no use to anyone without the portal's certificate.

export interface Actor {
  /** The organisation the call acts for. */
  ura: string;
  /** The researcher behind a portal call (absent: the organisation's own system, or the operator). */
  researcher?: { deziNumber: string; name: string };
}

export interface ActorOptions {
  /** True for the portal's certificate (the only peer whose researcher header counts). */
  isResearcherPortal(peer: Peer): boolean;
  /** Verifies a verklaring for the organisation it names (signature, expiry, status). */
  verifyVerklaring(jwt: string, ura: string): Promise<{ deziNumber: string; name: string; ura: string }>;
}

export function actorOf(o: ActorOptions): (peer: Peer | undefined, header: unknown) => Promise<Actor> {
  return async (peer, header) => {
    if (!peer?.ura) throw forbidden('a research organisation, the operator or the researcher portal calls with its own certificate');
    if (header === undefined) return { ura: peer.ura };
    if (!o.isResearcherPortal(peer)) throw forbidden('only the researcher portal acts on a researcher\'s behalf');
    if (typeof header !== 'string' || !/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(header)) throw new HttpError(401, 'login', 'the researcher\'s verklaring is not a JWT');
    let ura: unknown;
    try {
      ura = decodeJwt(header).abonnee_nummer;
    } catch {
      ura = undefined;
    }
    if (typeof ura !== 'string' || !/^\d{8}$/.test(ura)) throw new HttpError(401, 'login', 'the verklaring names no organisation (abonnee_nummer)');
    try {
      const who = await o.verifyVerklaring(header, ura);
      return { ura: who.ura, researcher: { deziNumber: who.deziNumber, name: who.name } };
    } catch (err) {
      throw new HttpError(401, 'login', `the researcher's verklaring is refused: ${(err as Error).message.slice(0, 200)}`);
    }
  };
}

/**
 * The network's wiring: the portal by its certificate thumbprint (setting
 * researcher_portal_thumbprint; the sandbox passes it), the verklaring by the identity part.
 */
export function networkActorOptions(ctx: PartContext, client: () => PartClient, portal?: (peer: Peer) => boolean): ActorOptions {
  const settings = hdabSettingsOf(ctx.settings);
  const thumbprint = settings.researcherPortalThumbprint;
  const verify = verklaringVerifier({ network: ctx.network, client, issuer: settings.identityIssuer, jwks: settings.identityJwks });
  return {
    isResearcherPortal: portal ?? ((peer) => !!thumbprint && peer.thumbprint === thumbprint),
    verifyVerklaring: (jwt, ura) => verify(jwt, { ura } as ClientContext),
  };
}

export { RESEARCHER_VERKLARING_HEADER };
