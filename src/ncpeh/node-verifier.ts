import type { JWTVerifyGetKey } from 'jose';
import type { PartClient } from '../kit/http/client.ts';
import type { NetworkView } from '../kit/part.ts';
import { remoteJwks, type UserContext } from '../trust/contract.ts';
import { isNationalAssertion, NCPEH_JWKS_PATH, verifyNationalAssertion } from './national-assertion.ts';

// What a node needs to accept the NCPeH's user assertion: the NCPeH's public keys, fetched over
// the network's TLS from the NCPeH part (the node's setting ncpeh_url, else the network's `ncpeh`). Without
// an NCPeH in the network such an assertion is refused.

export function crossBorderUserVerifier(input: { network: NetworkView; client: () => PartClient; ncpehUrl?: string }): {
  handles(assertion: string): boolean;
  verify(assertion: string, expectedUra: string): Promise<UserContext>;
} {
  let jwks: JWTVerifyGetKey | undefined;
  return {
    handles: isNationalAssertion,
    async verify(assertion, expectedUra) {
      const base = input.ncpehUrl ?? (input.network.has('ncpeh') ? input.network.url('ncpeh') : undefined);
      if (!base) throw new Error('no NCPeH in this network');
      jwks ??= remoteJwks(`${base}${NCPEH_JWKS_PATH}`, input.client());
      return verifyNationalAssertion(assertion, jwks, expectedUra);
    },
  };
}
