import type { KeyObject } from 'node:crypto';
import type { CryptoKey } from 'jose';
import { badRequest, notFound } from '../kit/fhir/outcome.ts';
import { sealEvaluation } from './evaluation-token.ts';
import { isRecipientOrganization, isRecipientScope } from './input.ts';
import type { KeyRing } from './keyring.ts';
import { GroupRefused } from './errors.ts';
import { ELEMENT_LENGTH, evaluateBlinded } from './oprf.ts';

// The PRS operation, free of HTTP: validate the request, evaluate the blinded element under every
// active key version of the recipient, and seal the result to the recipient's registered key.
// The PRS never sees the BSN (only a blinded group element) and never logs the element either.

export interface EvalRequest {
  /** base64url of the 32-byte blinded element. */
  encryptedPersonalId: string;
  /** "ura:<URA>". */
  recipientOrganization: string;
  recipientScope: string;
}

export interface RecipientKey {
  key: CryptoKey | KeyObject;
  kid?: string;
}

export interface EvaluateDeps {
  keyring: KeyRing;
  recipientKey(recipientOrganization: string, recipientScope: string): Promise<RecipientKey | null>;
  now?: () => number;
  ttlSeconds?: number;
}

export function parseEvalRequest(body: unknown): EvalRequest & { blinded: Uint8Array } {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw badRequest('body must be a JSON object');
  const { encryptedPersonalId, recipientOrganization, recipientScope } = body as Record<string, unknown>;
  if (typeof recipientOrganization !== 'string' || !isRecipientOrganization(recipientOrganization))
    throw badRequest('recipientOrganization must be "ura:<8 digits>"', ['recipientOrganization']);
  if (typeof recipientScope !== 'string' || !isRecipientScope(recipientScope)) throw badRequest('recipientScope must be a short lowercase token', ['recipientScope']);
  // Never quote the value in errors: it is a (blinded) personal identifier.
  if (typeof encryptedPersonalId !== 'string' || !/^[A-Za-z0-9_-]{43}$/.test(encryptedPersonalId))
    throw badRequest('encryptedPersonalId must be a base64url 32-byte blinded element', ['encryptedPersonalId']);
  const blinded = new Uint8Array(Buffer.from(encryptedPersonalId, 'base64url'));
  if (blinded.length !== ELEMENT_LENGTH) throw badRequest('encryptedPersonalId must be a base64url 32-byte blinded element', ['encryptedPersonalId']);
  return { encryptedPersonalId, recipientOrganization, recipientScope, blinded };
}

export async function evaluateForRecipient(body: unknown, deps: EvaluateDeps): Promise<{ jwe: string }> {
  const req = parseEvalRequest(body);
  const recipient = await deps.recipientKey(req.recipientOrganization, req.recipientScope);
  if (!recipient) throw notFound(`no encryption key registered for ${req.recipientOrganization} scope ${req.recipientScope}`);
  let elements: Array<{ version: number; evaluated: Uint8Array }>;
  try {
    elements = deps.keyring
      .keysFor(req.recipientOrganization, req.recipientScope)
      .map((k) => ({ version: k.version, evaluated: evaluateBlinded(k.secretKey, req.blinded) }));
  } catch (err) {
    if (!(err instanceof GroupRefused)) throw err;
    throw new GroupRefused('encryptedPersonalId is not a valid ristretto255 element', { expression: ['encryptedPersonalId'] });
  }
  const jwe = await sealEvaluation(
    elements,
    { recipientOrganization: req.recipientOrganization, recipientScope: req.recipientScope, key: recipient.key, kid: recipient.kid },
    { now: deps.now?.(), ttlSeconds: deps.ttlSeconds },
  );
  return { jwe };
}
