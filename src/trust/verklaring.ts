import { fetch as undiciFetch } from 'undici';
import type { PartClient } from '../kit/http/client.ts';
import type { NetworkView } from '../kit/part.ts';
import type { UserContext } from './auth/claims.ts';
import type { ClientContext } from './auth/token-issuer.ts';

// Wires the identity part's verklaring check into the token endpoint's jwt-bearer grant.
// The identity module is loaded by path on first use, so the trust part starts (and refuses
// the user grant with a reason) in a tree or a network where the identity part is absent.

const IDENTITY_VERIFY_MODULE = '../identity/verklaring/verify.ts';
const IDENTITY_CLAIMS_MODULE = '../identity/verklaring/claims.ts';

interface VerklaringModule {
  verifyVerklaring(jwt: string, o: Record<string, unknown>): Promise<Record<string, string | null>>;
  httpStatusChecker?(prefix: string, fetchImpl: unknown): (uri: string) => Promise<boolean>;
}
interface ClaimsModule {
  professionalName(c: Record<string, string | null>): string;
}

export function verklaringVerifier(input: {
  network: NetworkView;
  client: () => PartClient;
  /** The verklaringen's issuer (setting identity_issuer); default the network's identity part. */
  issuer?: string;
  /** Its key set (setting identity_jwks); default <issuer>/dezi/jwks.json. */
  jwks?: string;
}): (assertion: string, client: ClientContext) => Promise<UserContext> {
  let loaded: Promise<{ mod: VerklaringModule; claims: ClaimsModule }> | null = null;
  return async (assertion, client) => {
    if (!input.network.has('identity') && !input.issuer) throw new Error('no professional identity provider in this network');
    loaded ??= Promise.all([import(IDENTITY_VERIFY_MODULE), import(IDENTITY_CLAIMS_MODULE)]).then(([mod, claims]) => ({ mod, claims }));
    const { mod, claims } = await loaded;
    const issuer = input.issuer ?? input.network.url('identity');
    // The verklaring keys are the provider's Dezi key set (the jku of every verklaring).
    const jwks = input.jwks ?? `${issuer}/dezi/jwks.json`;
    const agent = input.client().agent;
    const fetchImpl = (url: string, init: Record<string, unknown>) => undiciFetch(url, { ...init, dispatcher: agent });
    const c = await mod.verifyVerklaring(assertion, {
      issuer,
      jwks,
      expectedUra: client.ura,
      fetch: fetchImpl,
      checkStatus: mod.httpStatusChecker?.(issuer, fetchImpl),
    });
    return { deziNumber: String(c.dezi_nummer), roleCode: String(c.rol_code), name: claims.professionalName(c), ura: String(c.abonnee_nummer) };
  };
}
