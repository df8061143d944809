import { badRequest } from '../kit/fhir/outcome.ts';
import { DATA_CATEGORY_CODES } from '../kit/fhir/profiles/gf-codes.ts';
import { isValidBsn } from '../kit/identifiers/bsn.ts';
import { type AgreementsDocument, exchangeByCode } from '../trust/contract.ts';
import { RESEARCH_EVENT_CODE } from '../secondary-use/contract.ts';
import { type ClosedQuestion, PURPOSE_RESEARCH } from './model.ts';

// The wire form of the closed question (JSON, the Mitz attribute set under our own names).
// A missing attribute is a 400 that names it; an unknown exchange or event code is a 400.

const REQUIRED = ['bsn', 'holderUra', 'holderType', 'requesterUra', 'requesterType', 'requesterRole', 'requesterId', 'purposeOfUse', 'eventCode'] as const;
// A research question (HRESCH) comes from the HDAB, an organisation: no professional, no care exchange.
const REQUIRED_RESEARCH = ['bsn', 'holderUra', 'holderType', 'requesterUra', 'requesterType', 'purposeOfUse'] as const;
const OPTIONAL = ['requesterRole', 'requesterId', 'eventCode', 'dataCategory', 'exchange'] as const;

export function parseClosedQuestion(body: unknown, agreements: AgreementsDocument): ClosedQuestion {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw badRequest('body must be a JSON object with the closed-question attributes');
  const b = body as Record<string, unknown>;
  const research = b.purposeOfUse === PURPOSE_RESEARCH;
  const required: readonly string[] = research ? REQUIRED_RESEARCH : REQUIRED;
  const missing = required.filter((k) => typeof b[k] !== 'string' || b[k] === '');
  if (missing.length) throw badRequest(`missing attribute(s): ${missing.join(', ')}`, [...missing]);
  for (const k of OPTIONAL) {
    if (b[k] !== undefined && typeof b[k] !== 'string') throw badRequest(`${k} must be a string`, [k]);
  }
  const q = Object.fromEntries([...REQUIRED, 'dataCategory', 'exchange'].filter((k) => b[k] !== undefined).map((k) => [k, b[k]])) as unknown as ClosedQuestion;
  if (!isValidBsn(q.bsn)) throw badRequest('bsn is not a valid BSN', ['bsn']);
  if (research) {
    q.requesterRole ??= '';
    q.requesterId ??= '';
    q.eventCode ??= '';
    if (q.dataCategory !== undefined && !DATA_CATEGORY_CODES.has(q.dataCategory)) throw badRequest(`unknown data category ${q.dataCategory}`, ['dataCategory']);
    if (q.exchange !== undefined) throw badRequest('a research question names no care exchange', ['exchange']);
    if (q.eventCode && q.eventCode !== RESEARCH_EVENT_CODE) throw badRequest(`a research question's event code is ${RESEARCH_EVENT_CODE}`, ['eventCode']);
    return q;
  }
  if (q.exchange !== undefined) {
    const exchange = exchangeByCode(agreements, q.exchange);
    if (!exchange) throw badRequest(`unknown exchange ${q.exchange}`, ['exchange']);
    if (exchange.consentEventCode !== q.eventCode) throw badRequest(`event code ${q.eventCode} does not belong to exchange ${q.exchange}`, ['eventCode']);
    if (q.dataCategory !== undefined && !exchange.dataCategories.includes(q.dataCategory)) {
      throw badRequest(`data category ${q.dataCategory} is not part of exchange ${q.exchange}`, ['dataCategory']);
    }
  } else if (!agreements.exchanges.some((e) => e.consentEventCode === q.eventCode)) {
    throw badRequest(`unknown event code ${q.eventCode}`, ['eventCode']);
  }
  if (q.dataCategory !== undefined && !DATA_CATEGORY_CODES.has(q.dataCategory)) throw badRequest(`unknown data category ${q.dataCategory}`, ['dataCategory']);
  return q;
}
