import type { OperationOutcome } from '@medplum/fhirtypes';
import type { PdpDecision } from '../../consent/contract.ts';
import { CODE_SYSTEM } from '../../kit/identifiers/systems.ts';

// Why a holder did not release one search, coded so the requester can say it per data category
// without guessing from English text:
//   patient-objection   — the patient recorded an objection (also under emergency access);
//   no-consent          — the exchange needs a consent the patient has not given (opt-in);
//   policy              — the agreements do not allow this requester, role or query;
//   consent-unavailable — the consent registry could not be asked (deny on error: a failure).
// The first two are the patient's choice, and the last may hide it: a requester must not name
// the holder for any of these three (a closed care relationship must not show through a failure).

export type WithheldReason = 'patient-objection' | 'no-consent' | 'policy' | 'consent-unavailable';

/** The patient's choice (as opposed to policy or failure): the refusing holder stays unnamed. */
export const PATIENT_CHOICE: ReadonlySet<WithheldReason> = new Set(['patient-objection', 'no-consent']);

/** Refusals that follow or may hide the patient's choice: the holder is never named for them. */
export const UNNAMED_REFUSALS: ReadonlySet<WithheldReason> = new Set(['patient-objection', 'no-consent', 'consent-unavailable']);

export function withheldReason(decision: PdpDecision): WithheldReason {
  if (decision.reasons.some((r) => r.code === 'pip_error')) return 'consent-unavailable';
  const answers = decision.consent ?? [];
  if (answers.some((a) => a.decision === 'Deny' && a.rule.kind === 'record')) return 'patient-objection';
  // The consent question is asked only once every static check passed: a refusal with answers is the consent's.
  if (answers.length > 0) return 'no-consent';
  return 'policy';
}

/** The 403 OperationOutcome of a refused search: `suppressed` for the patient's choice, coded reason and data categories. */
export function refusalOutcome(decision: PdpDecision): OperationOutcome {
  const reason = withheldReason(decision);
  const text = decision.reasons.map((r) => r.description).join('; ');
  return {
    resourceType: 'OperationOutcome',
    issue: [
      {
        severity: 'error',
        code: PATIENT_CHOICE.has(reason) ? 'suppressed' : reason === 'consent-unavailable' ? 'transient' : 'forbidden',
        diagnostics: `access denied: ${text}`,
        details: {
          coding: [
            { system: CODE_SYSTEM.withheldReason, code: reason },
            ...(decision.dataCategories ?? []).map((c) => ({ system: CODE_SYSTEM.dataCategories, code: c })),
          ],
        },
      },
    ],
  };
}

/** The coded reason of a refused search's OperationOutcome (undefined: an older or foreign holder). */
export function withheldReasonOf(outcome: OperationOutcome | undefined): WithheldReason | undefined {
  const code = outcome?.issue?.[0]?.details?.coding?.find((c) => c.system === CODE_SYSTEM.withheldReason)?.code;
  return code === 'patient-objection' || code === 'no-consent' || code === 'policy' || code === 'consent-unavailable' ? code : undefined;
}
