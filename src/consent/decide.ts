import type { ConsentMode } from '../trust/contract.ts';
import { type ClosedAnswer, type ClosedQuestion, type ConsentRecord, PURPOSE_RESEARCH, PURPOSE_TREAT } from './model.ts';

// The decision engine: pure functions from (question, the citizen's current records, network mode)
// to an answer naming the rule that decided. Rules (GF consent, design §4):
//  - a record applies when every dimension it restricts matches the question;
//  - more specific beats less specific: an individual organisation (2) weighs more than an
//    organisation type (1), on the holder and on the requester side; a data category adds 1;
//  - at equal specificity an objection (deny) wins;
//  - no applicable record: opt-in → Deny, opt-out → Permit.
//  - research (HRESCH) is a separate kind: only research records count, and without one the answer
//    is Permit (the EHDS opt-out for secondary use), whatever the network's care mode; care records
//    never answer a research question and research records never answer a care question.
// A question without a data category asks about all of the holder's data: a category-restricted
// permit cannot answer it, but a category-restricted objection does (it covers part of that data).

const URA_WEIGHT = 2;
const TYPE_WEIGHT = 1;
const CATEGORY_WEIGHT = 1;

/** Specificity of the record for this question, or -1 when it does not apply. */
export function specificityFor(record: ConsentRecord, q: ClosedQuestion): number {
  let score = 0;
  const side = (uras: string[], types: string[], ura: string, type: string): boolean => {
    if (uras.length > 0 && !uras.includes(ura)) return false;
    if (types.length > 0 && !types.includes(type)) return false;
    score += uras.length > 0 ? URA_WEIGHT : types.length > 0 ? TYPE_WEIGHT : 0;
    return true;
  };
  if (!side(record.holderUras, record.holderTypes, q.holderUra, q.holderType)) return -1;
  if (!side(record.requesterUras, record.requesterTypes, q.requesterUra, q.requesterType)) return -1;
  if (record.dataCategories.length > 0) {
    if (q.dataCategory === undefined) {
      if (record.provision === 'permit') return -1;
    } else if (!record.dataCategories.includes(q.dataCategory)) return -1;
    score += CATEGORY_WEIGHT;
  }
  return score;
}

export function isInForce(record: ConsentRecord, now: Date): boolean {
  if (record.status !== 'active') return false;
  if (record.periodStart && now < record.periodStart) return false;
  if (record.periodEnd && now > record.periodEnd) return false;
  return true;
}

export function decide(q: ClosedQuestion, records: readonly ConsentRecord[], mode: ConsentMode, now = new Date()): ClosedAnswer {
  if (q.purposeOfUse !== PURPOSE_TREAT && q.purposeOfUse !== PURPOSE_RESEARCH) {
    return {
      decision: 'NotApplicable',
      rule: { kind: 'not-applicable', reason: 'purpose' },
      reason: `the registry answers for purposes ${PURPOSE_TREAT} and ${PURPOSE_RESEARCH} only, not ${q.purposeOfUse}`,
    };
  }
  const research = q.purposeOfUse === PURPOSE_RESEARCH;
  let best: ConsentRecord | undefined;
  let bestScore = -1;
  for (const record of records) {
    if (record.bsn !== q.bsn || !isInForce(record, now)) continue;
    if ((record.purpose ?? PURPOSE_TREAT) !== q.purposeOfUse) continue;
    const score = specificityFor(record, q);
    if (score < 0) continue;
    // Strictly more specific wins; at equal specificity a deny replaces a permit (objection wins).
    if (score > bestScore || (score === bestScore && record.provision === 'deny' && best?.provision === 'permit')) {
      best = record;
      bestScore = score;
    }
  }
  if (best) {
    const decision = best.provision === 'permit' ? 'Permit' : 'Deny';
    return {
      decision,
      rule: { kind: 'record', consentId: best.id, version: best.version, provision: best.provision, specificity: bestScore },
      reason: `${best.provision === 'permit' ? 'consent' : 'objection'} ${best.id} (version ${best.version}, specificity ${bestScore}) applies`,
    };
  }
  if (research) {
    return { decision: 'Permit', rule: { kind: 'network-default', mode: 'opt-out' }, reason: 'secondary use is opt-out (EHDS) and no research objection applies' };
  }
  return mode === 'opt-in'
    ? { decision: 'Deny', rule: { kind: 'network-default', mode }, reason: 'opt-in network and no consent recorded that applies' }
    : { decision: 'Permit', rule: { kind: 'network-default', mode }, reason: 'opt-out network and no objection recorded that applies' };
}
