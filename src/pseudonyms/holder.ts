import { pseudonymInput } from './input.ts';
import { encodePseudonymToken } from './nvi-identifier.ts';
import { blindInput } from './oprf.ts';
import type { EvalRequest } from './evaluate.ts';

// Holder (client) side of the flow, transport-agnostic: derive the input, blind it, let `evaluate`
// reach the PRS, and package the JWE with the blind for the recipient. The blind and the token are
// single-use and never cached or logged (GF IG pseudonymisation, step 4).

export type Evaluator = (request: EvalRequest) => Promise<{ jwe: string }>;

/** The NviIdentifier value for (bsn → recipient, scope). Throws InvalidBsnError before any network call. */
export async function pseudonymToken(bsn: string, recipientOrganization: string, recipientScope: string, evaluate: Evaluator): Promise<string> {
  const input = pseudonymInput(bsn, recipientOrganization, recipientScope);
  const { blind, blinded } = blindInput(input);
  const { jwe } = await evaluate({ encryptedPersonalId: Buffer.from(blinded).toString('base64url'), recipientOrganization, recipientScope });
  return encodePseudonymToken({ evaluatedOutput: jwe, blindFactor: blind });
}
