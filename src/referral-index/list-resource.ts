import type { List, OperationOutcomeIssue } from '@medplum/fhirtypes';
import { unprocessable } from '../kit/fhir/outcome.ts';
import { CODE_SYSTEM, EXTENSION, PROFILE, SYSTEM } from '../kit/identifiers/systems.ts';
import { isCategoryToken } from './data-categories.ts';
import type { Referral } from './referrals.ts';

// The GF IG `nl-gf-localization-list` profile: what a registration must look like (every break is
// a 422 with one issue per problem) and how a referral is shown (without the subject: the search
// result must not hand the pseudonym token to anyone).

export interface ParsedRegistration {
  subjectValue: string;
  custodian: string;
  category: string;
  sourceClient: string;
}

const FORBIDDEN = ['language', 'contained', 'identifier', 'title', 'entry', 'note'] as const;

type Json = Record<string, unknown>;
/** Defensive readers: a body is untrusted JSON, whatever its declared type says. */
const obj = (v: unknown): Json | undefined => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : undefined);
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const str = (v: unknown): string => (typeof v === 'string' ? v : '');

export function parseLocalizationList(resource: unknown, acceptedCategories: ReadonlySet<string>): ParsedRegistration {
  const issues: OperationOutcomeIssue[] = [];
  const bad = (expression: string, diagnostics: string) => issues.push({ severity: 'error', code: 'invariant', diagnostics, expression: [expression] });
  const list = obj(resource);
  if (list?.resourceType !== 'List') {
    throw unprocessable('expected a List', [{ severity: 'error', code: 'structure', diagnostics: 'resourceType must be List', expression: ['List'] }]);
  }
  for (const key of FORBIDDEN) if (list[key] !== undefined) bad(`List.${key}`, `List.${key} is not allowed by the localization profile`);
  if (list.meta !== undefined) {
    const meta = obj(list.meta);
    const onlyProfile = !!meta && Object.keys(meta).every((k) => k === 'profile') && arr(meta.profile).every((p) => p === PROFILE.localizationList);
    if (!onlyProfile) bad('List.meta', 'List.meta may only declare the localization profile');
  }
  if (list.status !== 'current') bad('List.status', 'status must be "current"');
  if (list.mode !== 'working') bad('List.mode', 'mode must be "working"');

  const codings = arr(obj(list.code)?.coding).map(obj).filter((c) => c?.system === CODE_SYSTEM.dataCategories);
  const category = str(codings[0]?.code);
  if (codings.length !== 1 || !isCategoryToken(category) || !acceptedCategories.has(category)) {
    bad('List.code', `code must carry exactly one data category from ${CODE_SYSTEM.dataCategories} (nl-gf-zorgcontext-vs)`);
  }

  const subject = obj(list.subject);
  const subjectId = obj(subject?.identifier);
  const subjectValue = str(subjectId?.value);
  if (subjectId?.system !== SYSTEM.nviIdentifier || !subjectValue) {
    bad('List.subject.identifier', `subject.identifier must be an NVI identifier (${SYSTEM.nviIdentifier}) with a pseudonym token`);
  }
  if (subject?.reference !== undefined) bad('List.subject.reference', 'subject.reference is not allowed: only the pseudonymised identifier');

  const custodians = arr(list.extension).map(obj).filter((e) => e?.url === EXTENSION.localizationCustodian);
  const reference = obj(custodians[0]?.valueReference);
  const custodianId = obj(reference?.identifier);
  const custodian = str(custodianId?.value);
  if (custodians.length !== 1 || custodianId?.system !== SYSTEM.ura || !/^\d{8}$/.test(custodian) || reference?.reference !== undefined) {
    bad('List.extension', 'exactly one custodian extension with valueReference.identifier = URA (no reference) is required');
  }

  const source = obj(list.source);
  const sourceId = obj(source?.identifier);
  const sourceClient = str(sourceId?.value);
  if (sourceId?.system !== SYSTEM.oauthClientId || !/^[\x21-\x7e]{1,128}$/.test(sourceClient) || source?.reference !== undefined) {
    bad('List.source', `source.identifier must be the registering client (${SYSTEM.oauthClientId}), no reference`);
  }

  const withheld = arr(obj(list.emptyReason)?.coding).map(obj).some((c) => c?.system === CODE_SYSTEM.listEmptyReason && c?.code === 'withheld');
  if (!withheld) bad('List.emptyReason', 'emptyReason must be list-empty-reason#withheld');

  if (issues.length > 0) throw unprocessable('List does not conform to the localization profile', issues);
  return { subjectValue, custodian, category, sourceClient };
}

export function referralToList(r: Referral, options: { includeSource: boolean }): List {
  return {
    resourceType: 'List',
    id: r.id,
    extension: [{ url: EXTENSION.localizationCustodian, valueReference: { identifier: { system: SYSTEM.ura, value: r.custodian } } }],
    status: 'current',
    mode: 'working',
    code: { coding: [{ system: CODE_SYSTEM.dataCategories, code: r.category }] },
    date: r.created,
    ...(options.includeSource ? { source: { identifier: { system: SYSTEM.oauthClientId, value: r.sourceClient } } } : {}),
    emptyReason: { coding: [{ system: CODE_SYSTEM.listEmptyReason, code: 'withheld' }] },
  };
}
