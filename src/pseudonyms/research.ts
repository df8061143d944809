import { createHash } from 'node:crypto';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import canonicalize from 'canonicalize';
import { badRequest } from '../kit/fhir/outcome.ts';
import { isValidBsn } from '../kit/identifiers/bsn.ts';
import { InvalidBsnError } from './input.ts';
import { GroupRefused } from './errors.ts';
import { blindInput, deriveOprfKey, ELEMENT_LENGTH, evaluateBlinded, unblind } from './oprf.ts';

// Research pseudonyms (EHDS secondary use, issue 22): one pseudonym domain per data permit. The
// input is bound to the domain before blinding and the PRS evaluates with a key of that domain
// only, so the same person gets unrelated pseudonyms under two permits and never one equal to a
// care pseudonym (whose inputs and keys carry other labels). Every holder computes the same
// pseudonym for one person under one permit, so the HDAB can join the holders' extracts. The
// requester is the recipient: the holder keeps the blind, so only it can unblind the answer.

const RESEARCH_INPUT_VERSION = 'v1';
const KEY_VERSION = 1;

/** A permit id (JWT jti) usable as a domain: a safe token, so the HKDF info and key label are unambiguous. */
export function isResearchDomain(value: string): boolean {
  return /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/.test(value);
}

/** The 32-byte OPRF input for one BSN in one research domain. */
export function researchInput(bsn: string, domain: string): Uint8Array {
  if (!isValidBsn(bsn)) throw new InvalidBsnError();
  if (!isResearchDomain(domain)) throw new Error('research domain must be a short token (the permit id)');
  const json = canonicalize({ landCode: 'NL', type: 'BSN', value: bsn });
  if (json === undefined) throw new Error('canonicalisation failed');
  return hkdf(sha256, new TextEncoder().encode(json), undefined, new TextEncoder().encode(`ldn-research|${domain}|${RESEARCH_INPUT_VERSION}`), 32);
}

export function researchKeyLabel(domain: string): string {
  return `ldn-prs-research|${domain}|v${KEY_VERSION}`;
}

export interface ResearchEvalRequest {
  /** base64url of the 32-byte blinded element. */
  encryptedPersonalId: string;
  /** The data permit (compact JWS); the PRS checks it and takes its jti as the domain. */
  permit: string;
}

/** The request's shape (before the permit is checked): 400 on anything else. Never quotes the element. */
export function parseResearchRequest(body: unknown): ResearchEvalRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw badRequest('body must be a JSON object');
  const { encryptedPersonalId, permit } = body as Record<string, unknown>;
  if (typeof permit !== 'string' || !permit) throw badRequest('permit must be the data permit (compact JWS) the pseudonyms are asked under', ['permit']);
  if (typeof encryptedPersonalId !== 'string' || !/^[A-Za-z0-9_-]{43}$/.test(encryptedPersonalId))
    throw badRequest('encryptedPersonalId must be a base64url 32-byte blinded element', ['encryptedPersonalId']);
  return { encryptedPersonalId, permit };
}

/** PRS side: evaluate under the domain's key (the jti of a permit already checked). Never quotes the element. */
export function evaluateResearch(encryptedPersonalId: string, domain: string, seed: Uint8Array): { evaluated: string; version: number } {
  if (!isResearchDomain(domain)) throw badRequest('the permit id is not a usable pseudonym domain', ['permit']);
  const blinded = /^[A-Za-z0-9_-]{43}$/.test(encryptedPersonalId) ? new Uint8Array(Buffer.from(encryptedPersonalId, 'base64url')) : new Uint8Array();
  if (blinded.length !== ELEMENT_LENGTH) throw badRequest('encryptedPersonalId must be a base64url 32-byte blinded element', ['encryptedPersonalId']);
  const key = deriveOprfKey(seed, researchKeyLabel(domain));
  try {
    return { evaluated: Buffer.from(evaluateBlinded(key.secretKey, blinded)).toString('base64url'), version: KEY_VERSION };
  } catch (err) {
    if (!(err instanceof GroupRefused)) throw err;
    throw new GroupRefused('encryptedPersonalId is not a valid ristretto255 element', { expression: ['encryptedPersonalId'] });
  }
}

export type ResearchEvaluator = (request: ResearchEvalRequest) => Promise<{ evaluated: string }>;

/**
 * Holder side: the research pseudonym of `bsn` under a permit (hex; a valid FHIR id). The domain
 * is the permit's jti, which the holder has verified; the PRS checks the same permit. Single-use blind.
 */
export async function researchPseudonym(bsn: string, permit: { jws: string; jti: string }, evaluate: ResearchEvaluator): Promise<string> {
  const domain = permit.jti;
  const { blind, blinded } = blindInput(researchInput(bsn, domain));
  const { evaluated } = await evaluate({ encryptedPersonalId: Buffer.from(blinded).toString('base64url'), permit: permit.jws });
  const bytes = typeof evaluated === 'string' ? new Uint8Array(Buffer.from(evaluated, 'base64url')) : new Uint8Array();
  if (bytes.length !== ELEMENT_LENGTH) throw new Error('PRS answered a malformed research evaluation');
  const element = unblind(bytes, blind);
  // The element itself never leaves: a hash of it, labelled, is the pseudonym.
  return createHash('sha256').update('ldn-research-pseudonym|').update(domain).update('|').update(element).digest('hex').slice(0, 40);
}
