import type { JWK } from 'jose';
import type { PartClient } from '../kit/http/client.ts';
import type { TraceContext } from '../kit/trace.ts';
import { pseudonymToken } from './holder.ts';
import { PRS_EVAL_SCOPE } from './part.ts';
import { researchPseudonym } from './research.ts';

// Client library for the PRS, over the network's mTLS client (tokens via its TokenProvider).

export class PrsClient {
  constructor(
    private readonly client: PartClient,
    private readonly prsUrl: string,
  ) {}

  /**
   * The NviIdentifier value (token + blind) for `bsn` addressed to a recipient. Single use: the
   * caller must neither cache nor log it. Throws InvalidBsnError before any network call.
   */
  pseudonymise(bsn: string, recipientOrganization: string, recipientScope: string, options: { trace?: TraceContext } = {}): Promise<string> {
    return pseudonymToken(bsn, recipientOrganization, recipientScope, (body) =>
      this.client.json<{ jwe: string }>(`${this.prsUrl}/oprf/eval`, { method: 'POST', body, scope: PRS_EVAL_SCOPE, idempotent: true, trace: options.trace, headers: { 'content-type': 'application/json' } }),
    );
  }

  /** The research pseudonym of `bsn` in a permit's domain (research.ts); only its holder can unblind it. */
  researchPseudonym(bsn: string, permit: { jws: string; jti: string }, options: { trace?: TraceContext } = {}): Promise<string> {
    return researchPseudonym(bsn, permit, (body) =>
      this.client.json<{ evaluated: string }>(`${this.prsUrl}/oprf/research-eval`, { method: 'POST', body, scope: PRS_EVAL_SCOPE, idempotent: true, trace: options.trace, headers: { 'content-type': 'application/json' } }),
    );
  }

  /** Recipient side: register our JWE public key for a scope (our URA comes from our certificate). */
  registerRecipientKey(ura: string, recipientScope: string, publicJwk: JWK): Promise<{ kid: string }> {
    return this.client.json(`${this.prsUrl}/recipients/${ura}/key`, {
      method: 'PUT',
      body: { scope: recipientScope, jwk: publicJwk },
      headers: { 'content-type': 'application/json' },
    });
  }
}
