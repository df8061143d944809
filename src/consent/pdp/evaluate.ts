import { acceptedEmergencyReason } from '../../kit/rules/emergency-reason.ts';
import { qualifiedAt } from '../../kit/rules/qualification.ts';
import type { AgreementsDocument, ExchangeDefinition, LegalBasis } from '../../trust/contract.ts';
import type { ClosedAnswer, ClosedQuestion } from '../model.ts';
import type { ConsentOracle } from './oracle.ts';
import { checkQuery } from './query.ts';
import type { PdpDecision, PdpInput, PdpReason } from './types.ts';

// The policy decision point every node runs in front of its data. Policies are the exchanges of
// the agreements document; this code only evaluates them. Deny on any error or missing input.
//
// Legal bases:
//   explicit-consent       — a recorded consent of the patient permits it;
//   opt-out                — the registry permits it (an opt-out network without an objection, or a consent);
//   treatment-relationship — the holder vouches for one (context.treatment_relationship);
//   emergency-access       — break the glass with a reason, where the exchange allows it, when the
//                            patient has not explicitly objected; the access is flagged for review.

const REQUIRED: Array<[keyof PdpInput, string[]]> = [
  ['subject', ['scope', 'organization_ura', 'organization_facility_type', 'user_id', 'user_role']],
  ['request', ['method', 'path']],
  ['context', ['data_holder_organization_id', 'data_holder_facility_type', 'patient_bsn', 'purpose_of_use', 'exchange']],
];

export interface PdpOptions {
  agreements: () => AgreementsDocument;
  consent: ConsentOracle;
  now?: () => Date;
}

export interface Pdp {
  evaluate(input: PdpInput): Promise<PdpDecision>;
}

const deny = (reasons: PdpReason[], extra: Partial<PdpDecision> = {}): PdpDecision => ({ allow: false, reasons, ...extra });
const notAllowed = (description: string): PdpReason => ({ code: 'not_allowed', description });

function missingInput(input: PdpInput): string[] {
  const missing: string[] = [];
  for (const [part, fields] of REQUIRED) {
    const obj = (input as unknown as Record<string, Record<string, unknown> | undefined>)?.[part];
    if (!obj || typeof obj !== 'object') {
      missing.push(part);
      continue;
    }
    for (const f of fields) if (typeof obj[f] !== 'string' || obj[f] === '') missing.push(`${part}.${f}`);
  }
  if (input?.request && (typeof input.request.query_params !== 'object' || input.request.query_params === null)) missing.push('request.query_params');
  if (input?.subject && !Array.isArray(input.subject.client_qualifications)) missing.push('subject.client_qualifications');
  return missing;
}

/** The static part of the policy: everything except consent. */
function staticChecks(input: PdpInput, exchange: ExchangeDefinition, now: Date): { reasons: PdpReason[]; categories: string[] } {
  const { subject, request, context } = input;
  const reasons: PdpReason[] = [];
  const scopes = subject.scope.split(/\s+/);
  if (!exchange.scopes.some((s) => scopes.includes(s))) reasons.push(notAllowed(`token scope lacks ${exchange.scopes.join(' or ')}`));
  if (!exchange.requesterRoles.includes(subject.user_role)) reasons.push(notAllowed(`role ${subject.user_role} may not request ${exchange.code}`));
  if (!exchange.requesterOrganizationTypes.includes(subject.organization_facility_type)) {
    reasons.push(notAllowed(`organisation type ${subject.organization_facility_type} may not request ${exchange.code}`));
  }
  if (!exchange.holderOrganizationTypes.includes(context.data_holder_facility_type)) {
    reasons.push(notAllowed(`organisation type ${context.data_holder_facility_type} does not hold data for ${exchange.code}`));
  }
  if (!qualifiedAt(subject.client_qualifications ?? [], exchange.code, now)) {
    reasons.push(notAllowed(`requester ${subject.organization_ura} holds no valid qualification for ${exchange.code}`));
  }
  if (context.purpose_of_use !== exchange.purposeOfUse) {
    reasons.push(notAllowed(`purpose ${context.purpose_of_use} is not the exchange's purpose ${exchange.purposeOfUse}`));
  }
  const query = checkQuery(exchange, request, context.patient_bsn);
  for (const p of query.problems) reasons.push(notAllowed(p));
  return { reasons, categories: query.dataCategories };
}

function question(input: PdpInput, exchange: ExchangeDefinition, dataCategory: string): ClosedQuestion {
  return {
    bsn: input.context.patient_bsn,
    holderUra: input.context.data_holder_organization_id,
    holderType: input.context.data_holder_facility_type,
    requesterUra: input.subject.organization_ura,
    requesterType: input.subject.organization_facility_type,
    requesterRole: input.subject.user_role,
    requesterId: input.subject.user_id,
    purposeOfUse: input.context.purpose_of_use,
    eventCode: exchange.consentEventCode,
    exchange: exchange.code,
    dataCategory,
  };
}

/** Which consent-based legal basis (if any) this answer satisfies. */
function consentBasis(answer: ClosedAnswer, bases: LegalBasis[]): LegalBasis | null {
  if (answer.decision !== 'Permit') return null;
  if (answer.rule.kind === 'record' && bases.includes('explicit-consent')) return 'explicit-consent';
  if (bases.includes('opt-out')) return 'opt-out';
  return null;
}

export function createPdp(options: PdpOptions): Pdp {
  const now = options.now ?? (() => new Date());
  let compiledFor: AgreementsDocument | null = null;
  let byCode = new Map<string, ExchangeDefinition>();
  const exchangeOf = (code: string): ExchangeDefinition | undefined => {
    const doc = options.agreements();
    if (doc !== compiledFor) {
      byCode = new Map(doc.exchanges.map((e) => [e.code, e]));
      compiledFor = doc;
    }
    return byCode.get(code);
  };

  async function evaluate(input: PdpInput): Promise<PdpDecision> {
    const missing = missingInput(input);
    if (missing.length) return deny(missing.map((m) => notAllowed(`missing input: ${m}`)));
    const exchange = exchangeOf(input.context.exchange);
    if (!exchange) return deny([notAllowed(`unknown exchange ${input.context.exchange}`)]);
    const at = now();
    const { reasons, categories } = staticChecks(input, exchange, at);
    const emergency = input.context.emergency;
    if (emergency !== undefined && acceptedEmergencyReason(emergency?.reason) === undefined) {
      reasons.push(notAllowed('break-the-glass requires a reason'));
    }
    if (reasons.length) return deny(reasons, { dataCategories: categories });

    const bases = exchange.legalBasis;
    if (bases.includes('treatment-relationship') && input.context.treatment_relationship === true) {
      return { allow: true, reasons: [{ code: 'info', description: 'treatment relationship on record at the holder' }], basis: 'treatment-relationship', dataCategories: categories };
    }
    const consentBased = bases.includes('explicit-consent') || bases.includes('opt-out');
    let answers: ClosedAnswer[] = [];
    if (consentBased) {
      try {
        answers = await Promise.all(categories.map((c) => options.consent.closedQuestion(question(input, exchange, c))));
      } catch (err) {
        return deny([{ code: 'pip_error', description: `consent registry unavailable: ${(err as Error).message}` }], { dataCategories: categories });
      }
      const satisfied = answers.map((a) => consentBasis(a, bases));
      if (satisfied.every((b) => b !== null)) {
        const basis = satisfied.includes('opt-out') ? 'opt-out' : 'explicit-consent';
        return { allow: true, reasons: answers.map((a) => ({ code: 'info', description: a.reason })), basis, dataCategories: categories, consent: answers };
      }
    }
    const refusals: PdpReason[] = consentBased
      ? answers.flatMap((a, i) => {
          if (consentBasis(a, bases) !== null) return [];
          const why = a.decision === 'Permit' ? `; ${exchange.code} requires an explicit consent` : '';
          return [notAllowed(`consent (${categories[i]}): ${a.decision}: ${a.reason}${why}`)];
        })
      : [notAllowed(`no legal basis of ${exchange.code} (${bases.join(', ')}) applies`)];
    if (!emergency) return deny(refusals, { dataCategories: categories, consent: answers });

    if (!exchange.emergencyAccess || !bases.includes('emergency-access')) {
      return deny([...refusals, notAllowed(`${exchange.code} does not allow emergency access`)], { dataCategories: categories, consent: answers });
    }
    const objection = answers.find((a) => a.decision === 'Deny' && a.rule.kind === 'record');
    if (objection) {
      return deny([...refusals, notAllowed('the patient objected explicitly; emergency access does not override an objection')], {
        dataCategories: categories,
        consent: answers,
      });
    }
    return {
      allow: true,
      emergency: true,
      review: true,
      basis: 'emergency-access',
      reasons: [{ code: 'info', description: `emergency access: ${emergency.reason.trim()}` }, ...refusals.map((r) => ({ ...r, code: 'info' as const }))],
      dataCategories: categories,
      consent: answers,
    };
  }

  return {
    async evaluate(input) {
      try {
        return await evaluate(input);
      } catch (err) {
        return deny([{ code: 'pip_error', description: `evaluation failed: ${(err as Error).message}` }]);
      }
    },
  };
}
