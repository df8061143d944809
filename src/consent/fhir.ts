import type { CodeableConcept, Consent, ConsentProvisionActor, OperationOutcomeIssue } from '@medplum/fhirtypes';
import { badRequest, unprocessable } from '../kit/fhir/outcome.ts';
import { isValidBsn } from '../kit/identifiers/bsn.ts';
import { isUra, ORGANIZATION_TYPES } from '../kit/identifiers/roles.ts';
import { CODE_SYSTEM, SYSTEM } from '../kit/identifiers/systems.ts';
import type { ConsentScope, Provision } from './model.ts';
import { CONSENT_URI, DATA_CATEGORIES } from './uris.ts';

// FHIR R4 Consent as the external form of a citizen's choice:
//  patient.identifier      = BSN
//  scope                   = consentscope#treatment, purpose TREAT (the only purpose we record)
//  provision.type          = permit (consent) | deny (objection; unscoped = EHDS opt-out)
//  provision.actor         = role PRCP (requester) or CST (data holder), reference.identifier with
//                            system URA (one organisation) or organisation-type (a kind of provider)
//  provision.code          = GF data categories the choice is limited to
//  provision.period        = when it is in force
// Anything the registry cannot decide on faithfully is refused with 422 (never silently ignored).

export interface ParsedConsent extends ConsentScope {
  bsn: string;
  status: 'active' | 'inactive';
  provision: Provision;
  periodStart?: Date;
  periodEnd?: Date;
}

const ROLE_REQUESTER = 'PRCP';
const ROLE_HOLDER = 'CST';

function codes(concepts: CodeableConcept[] | undefined): Array<{ system?: string; code?: string }> {
  return (concepts ?? []).flatMap((c) => c.coding ?? []);
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
  if (!codes(c.scope ? [c.scope] : undefined).some((x) => x.system === CONSENT_URI.consentScope && x.code === 'treatment')) {
    issues.push(issue(`scope must be ${CONSENT_URI.consentScope}#treatment`, 'Consent.scope'));
  }
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
    if (p.provision?.length) issues.push(issue('nested provisions are not supported; record one choice per Consent', 'Consent.provision.provision'));
    for (const field of ['data', 'dataPeriod', 'securityLabel', 'class'] as const) {
      if (p[field] !== undefined) issues.push(issue(`provision.${field} is not supported by the registry`, `Consent.provision.${field}`));
    }
    for (const purpose of p.purpose ?? []) {
      if (purpose.system !== CODE_SYSTEM.purposeOfUse || purpose.code !== 'TREAT') {
        issues.push(issue('provision.purpose may only be v3-ActReason#TREAT', 'Consent.provision.purpose'));
      }
    }
    (p.actor ?? []).forEach((actor: ConsentProvisionActor, i) => {
      readActor(actor, i, scope, issues);
    });
    codes(p.code).forEach((coding, i) => {
      const path = `Consent.provision.code[${i}]`;
      if (coding.system !== CODE_SYSTEM.dataCategories) issues.push(issue(`provision.code must use ${CODE_SYSTEM.dataCategories}`, path));
      else if (!coding.code || !DATA_CATEGORIES.includes(coding.code)) issues.push(issue(`unknown data category ${coding.code}`, path));
      else if (!scope.dataCategories.includes(coding.code)) scope.dataCategories.push(coding.code);
    });
    periodStart = parseDate(p.period?.start, 'Consent.provision.period.start', issues);
    periodEnd = parseDate(p.period?.end, 'Consent.provision.period.end', issues);
    if (periodStart && periodEnd && periodStart > periodEnd) issues.push(issue('provision.period.start is after its end', 'Consent.provision.period'));
  }
  if (issues.length > 0) throw unprocessable(issues.map((x) => x.diagnostics).join('; '), issues);
  return { bsn, status: c.status as 'active' | 'inactive', provision, ...scope, periodStart, periodEnd };
}

function readActor(actor: ConsentProvisionActor, i: number, scope: ConsentScope, issues: OperationOutcomeIssue[]): void {
  const path = `Consent.provision.actor[${i}]`;
  const role = codes(actor?.role ? [actor.role] : undefined).find((x) => x.system === CONSENT_URI.participationType)?.code;
  if (role !== ROLE_REQUESTER && role !== ROLE_HOLDER) {
    issues.push(issue(`actor.role must be ${CONSENT_URI.participationType}#${ROLE_REQUESTER} (requester) or #${ROLE_HOLDER} (data holder)`, `${path}.role`));
    return;
  }
  const ident = actor.reference?.identifier;
  const value = ident?.value ?? '';
  if (ident?.system === SYSTEM.ura) {
    if (!isUra(value)) issues.push(issue(`actor URA must be 8 digits`, `${path}.reference.identifier.value`));
    else (role === ROLE_REQUESTER ? scope.requesterUras : scope.holderUras).push(value);
  } else if (ident?.system === SYSTEM.organizationType) {
    if (!(value in ORGANIZATION_TYPES)) issues.push(issue(`unknown organisation type ${value}`, `${path}.reference.identifier.value`));
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
  return {
    resourceType: 'Consent',
    status: choice.status,
    scope: { coding: [{ system: CONSENT_URI.consentScope, code: 'treatment' }] },
    category: [{ coding: [{ system: CONSENT_URI.loinc, code: '59284-0' }] }],
    patient: { identifier: { system: SYSTEM.bsn, value: choice.bsn } },
    provision: {
      type: choice.provision,
      ...(period ? { period } : {}),
      ...(actors.length ? { actor: actors } : {}),
      action: [{ coding: [{ system: CONSENT_URI.consentAction, code: 'access' }] }],
      purpose: [{ system: CODE_SYSTEM.purposeOfUse, code: 'TREAT' }],
      ...(choice.dataCategories.length
        ? { code: choice.dataCategories.map((code) => ({ coding: [{ system: CODE_SYSTEM.dataCategories, code }] })) }
        : {}),
    },
  };
}

export const emptyScope = (): ConsentScope => ({ holderUras: [], holderTypes: [], requesterUras: [], requesterTypes: [], dataCategories: [] });
