import type { Consent, ConsentProvisionActor, OperationOutcomeIssue } from '@medplum/fhirtypes';
import { badRequest, unprocessable } from '../kit/fhir/outcome.ts';
import { DATA_CATEGORY_CODES } from '../kit/fhir/profiles/gf-codes.ts';
import { isValidBsn } from '../kit/identifiers/bsn.ts';
import { isUra, ORGANIZATION_TYPES } from '../kit/identifiers/roles.ts';
import { CODE_SYSTEM, SYSTEM } from '../kit/identifiers/systems.ts';
import { type ConsentChoiceFields, type ConsentScope, PURPOSE_RESEARCH, PURPOSE_TREAT, type Provision } from './model.ts';
import { CONSENT_URI } from './uris.ts';

// FHIR R4 Consent as the external form of a citizen's choice:
//  patient.identifier      = BSN
//  scope                   = consentscope#treatment with purpose TREAT (care), or consentscope#research
//                            with purpose HRESCH (secondary use, EHDS opt-out): two kinds that never mix
//  provision.type          = permit (consent) | deny (objection; unscoped = EHDS opt-out)
//  provision.actor         = role PRCP (requester) or CST (data holder), reference.identifier with
//                            system URA (one organisation) or organisation-type (a kind of provider)
//  provision.code          = GF data categories the choice is limited to
//  provision.period        = when it is in force
// Anything the registry cannot decide on faithfully is refused with 422 (never silently ignored).

/** A Consent resource read into a choice (no id or version yet). */
export type ParsedConsent = ConsentChoiceFields;

const ROLE_REQUESTER = 'PRCP';
const ROLE_HOLDER = 'CST';

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Codings of well-formed concepts only; used where a malformed entry already fails the rule it was meant to meet. */
function codes(concepts: unknown): Array<{ system?: unknown; code?: unknown }> {
  if (!Array.isArray(concepts)) return [];
  return concepts.flatMap((c) => (isObject(c) && Array.isArray(c.coding) ? c.coding.filter(isObject) : []));
}

/** A repeating element: absent is empty; anything but an array is a 422 (never treated as absent, which would widen a choice). */
function list(value: unknown, path: string, issues: OperationOutcomeIssue[]): unknown[] {
  if (value === undefined) return [];
  if (Array.isArray(value)) return value;
  issues.push(issue(`${path} must be an array`, path));
  return [];
}

function parseDate(value: unknown, path: string, issues: OperationOutcomeIssue[]): Date | undefined {
  if (value === undefined) return undefined;
  const d = typeof value === 'string' && /^\d{4}-\d{2}-\d{2}/.test(value) ? new Date(value) : new Date(Number.NaN);
  if (Number.isNaN(d.getTime())) {
    issues.push(issue(`${path} is not a FHIR dateTime`, path));
    return undefined;
  }
  return d;
}

function issue(diagnostics: string, expression: string): OperationOutcomeIssue {
  return { severity: 'error', code: 'business-rule', diagnostics, expression: [expression] };
}

/** Checks a Consent against the registry's rules: 400 when it is not a Consent at all, 422 for broken rules. */
export function parseConsent(input: unknown): ParsedConsent {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw badRequest('body must be a FHIR Consent resource');
  const c = input as Partial<Consent> & Record<string, unknown>;
  if (c.resourceType !== 'Consent') throw badRequest(`expected resourceType Consent, got ${String(c.resourceType)}`, ['resourceType']);
  const issues: OperationOutcomeIssue[] = [];

  if (c.status !== 'active' && c.status !== 'inactive') issues.push(issue('status must be active or inactive (withdrawn)', 'Consent.status'));
  const scopes = codes(c.scope ? [c.scope] : undefined).filter((x) => x.system === CONSENT_URI.consentScope);
  const research = scopes.some((x) => x.code === 'research');
  if (research ? scopes.some((x) => x.code === 'treatment') : !scopes.some((x) => x.code === 'treatment')) {
    issues.push(issue(`scope must be ${CONSENT_URI.consentScope}#treatment or #research (not both)`, 'Consent.scope'));
  }
  const purposeCode = research ? PURPOSE_RESEARCH : PURPOSE_TREAT;
  const id = c.patient?.identifier;
  let bsn = '';
  if (id?.system !== SYSTEM.bsn || typeof id.value !== 'string') {
    issues.push(issue(`patient.identifier must carry system ${SYSTEM.bsn}`, 'Consent.patient.identifier'));
  } else if (!isValidBsn(id.value)) {
    issues.push(issue('patient.identifier.value is not a valid BSN (11-test)', 'Consent.patient.identifier.value'));
  } else bsn = id.value;

  const p = c.provision;
  const scope: ConsentScope = { holderUras: [], holderTypes: [], requesterUras: [], requesterTypes: [], dataCategories: [] };
  let provision: Provision = 'deny';
  let periodStart: Date | undefined;
  let periodEnd: Date | undefined;
  if (!p || typeof p !== 'object') {
    issues.push(issue('provision is required', 'Consent.provision'));
  } else {
    if (p.type !== 'permit' && p.type !== 'deny') issues.push(issue('provision.type must be permit or deny', 'Consent.provision.type'));
    else provision = p.type;
    if (p.provision !== undefined && !(Array.isArray(p.provision) && p.provision.length === 0)) {
      issues.push(issue('nested provisions are not supported; record one choice per Consent', 'Consent.provision.provision'));
    }
    for (const field of ['data', 'dataPeriod', 'securityLabel', 'class'] as const) {
      if (p[field] !== undefined) issues.push(issue(`provision.${field} is not supported by the registry`, `Consent.provision.${field}`));
    }
    const purposes = list(p.purpose, 'Consent.provision.purpose', issues);
    for (const purpose of purposes) {
      if (!isObject(purpose) || purpose.system !== CODE_SYSTEM.purposeOfUse || purpose.code !== purposeCode) {
        issues.push(issue(`provision.purpose may only be v3-ActReason#${purposeCode} for this scope`, 'Consent.provision.purpose'));
      }
    }
    // A research choice must say so in its purpose too: never read as a care choice by mistake.
    if (research && purposes.length === 0) issues.push(issue(`a research consent needs provision.purpose v3-ActReason#${PURPOSE_RESEARCH}`, 'Consent.provision.purpose'));
    list(p.actor, 'Consent.provision.actor', issues).forEach((actor, i) => {
      readActor(actor, i, scope, issues);
    });
    list(p.code, 'Consent.provision.code', issues).forEach((concept, i) => {
      const path = `Consent.provision.code[${i}]`;
      // Each entry must narrow the choice; a malformed one would otherwise be dropped and widen it.
      const codings = isObject(concept) && Array.isArray(concept.coding) ? concept.coding : [];
      if (codings.length === 0) issues.push(issue('provision.code entries need a coding', path));
      for (const coding of codings) {
        const code = isObject(coding) ? coding.code : undefined;
        if (!isObject(coding) || coding.system !== CODE_SYSTEM.dataCategories) issues.push(issue(`provision.code must use ${CODE_SYSTEM.dataCategories}`, path));
        else if (typeof code !== 'string' || !DATA_CATEGORY_CODES.has(code)) issues.push(issue(`unknown data category ${String(code)}`, path));
        else if (!scope.dataCategories.includes(code)) scope.dataCategories.push(code);
      }
    });
    const period: unknown = p.period;
    if (period !== undefined && !isObject(period)) issues.push(issue('provision.period must be a Period', 'Consent.provision.period'));
    periodStart = parseDate(isObject(period) ? period.start : undefined, 'Consent.provision.period.start', issues);
    periodEnd = parseDate(isObject(period) ? period.end : undefined, 'Consent.provision.period.end', issues);
    if (periodStart && periodEnd && periodStart > periodEnd) issues.push(issue('provision.period.start is after its end', 'Consent.provision.period'));
  }
  if (issues.length > 0) throw unprocessable(issues.map((x) => x.diagnostics).join('; '), issues);
  return { bsn, status: c.status as 'active' | 'inactive', provision, ...scope, periodStart, periodEnd, ...(research ? { purpose: PURPOSE_RESEARCH } : {}) };
}

function readActor(actor: unknown, i: number, scope: ConsentScope, issues: OperationOutcomeIssue[]): void {
  const path = `Consent.provision.actor[${i}]`;
  const a = isObject(actor) ? actor : undefined;
  const role = codes(a ? [a.role] : undefined).find((x) => x.system === CONSENT_URI.participationType)?.code;
  if (!a || (role !== ROLE_REQUESTER && role !== ROLE_HOLDER)) {
    issues.push(issue(`actor.role must be ${CONSENT_URI.participationType}#${ROLE_REQUESTER} (requester) or #${ROLE_HOLDER} (data holder)`, `${path}.role`));
    return;
  }
  const ident: unknown = isObject(a.reference) ? a.reference.identifier : undefined;
  const system = isObject(ident) ? ident.system : undefined;
  const value = isObject(ident) && typeof ident.value === 'string' ? ident.value : '';
  if (system === SYSTEM.ura) {
    if (!isUra(value)) issues.push(issue(`actor URA must be 8 digits`, `${path}.reference.identifier.value`));
    else (role === ROLE_REQUESTER ? scope.requesterUras : scope.holderUras).push(value);
  } else if (system === SYSTEM.organizationType) {
    // Own keys only: 'constructor' or 'toString' are not organisation types.
    if (!Object.hasOwn(ORGANIZATION_TYPES, value)) issues.push(issue(`unknown organisation type ${value}`, `${path}.reference.identifier.value`));
    else (role === ROLE_REQUESTER ? scope.requesterTypes : scope.holderTypes).push(value);
  } else {
    issues.push(issue(`actor.reference.identifier must use ${SYSTEM.ura} or ${SYSTEM.organizationType}`, `${path}.reference.identifier`));
  }
}

/** Builds a well-formed Consent from the registry's terms (portals, sandbox seeding, bench). */
export function consentResource(choice: ParsedConsent): Consent {
  const actor = (role: string, system: string) => (value: string): ConsentProvisionActor => ({
    role: { coding: [{ system: CONSENT_URI.participationType, code: role }] },
    reference: { type: 'Organization', identifier: { system, value } },
  });
  const actors = [
    ...choice.requesterUras.map(actor(ROLE_REQUESTER, SYSTEM.ura)),
    ...choice.requesterTypes.map(actor(ROLE_REQUESTER, SYSTEM.organizationType)),
    ...choice.holderUras.map(actor(ROLE_HOLDER, SYSTEM.ura)),
    ...choice.holderTypes.map(actor(ROLE_HOLDER, SYSTEM.organizationType)),
  ];
  const period = choice.periodStart || choice.periodEnd
    ? { ...(choice.periodStart ? { start: choice.periodStart.toISOString() } : {}), ...(choice.periodEnd ? { end: choice.periodEnd.toISOString() } : {}) }
    : undefined;
  const research = choice.purpose === PURPOSE_RESEARCH;
  return {
    resourceType: 'Consent',
    status: choice.status,
    scope: { coding: [{ system: CONSENT_URI.consentScope, code: research ? 'research' : 'treatment' }] },
    category: [{ coding: [{ system: CONSENT_URI.loinc, code: '59284-0' }] }],
    patient: { identifier: { system: SYSTEM.bsn, value: choice.bsn } },
    provision: {
      type: choice.provision,
      ...(period ? { period } : {}),
      ...(actors.length ? { actor: actors } : {}),
      action: [{ coding: [{ system: CONSENT_URI.consentAction, code: 'access' }] }],
      purpose: [{ system: CODE_SYSTEM.purposeOfUse, code: research ? PURPOSE_RESEARCH : PURPOSE_TREAT }],
      ...(choice.dataCategories.length
        ? { code: choice.dataCategories.map((code) => ({ coding: [{ system: CODE_SYSTEM.dataCategories, code }] })) }
        : {}),
    },
  };
}

export const emptyScope = (): ConsentScope => ({ holderUras: [], holderTypes: [], requesterUras: [], requesterTypes: [], dataCategories: [] });
