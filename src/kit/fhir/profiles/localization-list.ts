import type { OperationOutcomeIssue } from '@medplum/fhirtypes';
import { CODE_SYSTEM, EXTENSION, SYSTEM } from '../../identifiers/systems.ts';
import { ZORGCONTEXT_CODES } from './gf-codes.ts';
import { asArray, codings, isNonEmptyString, isObject, type Json, profileIssue, requireAbsent, wrongType } from './rule-kit.ts';

// nl-gf-localization-list: "care provider X holds data of category Y for pseudonymised patient Z".
// The subject is only a pseudonym token and the list carries no entries, so the index learns nothing else.

const P = 'nl-gf-localization-list';
const FORBIDDEN = ['contained', 'identifier', 'title', 'entry', 'note', 'language'] as const;

export function checkLocalizationList(r: Json): OperationOutcomeIssue[] {
  const type = wrongType(r, 'List', P);
  if (type.length) return type;
  const issues: OperationOutcomeIssue[] = FORBIDDEN.flatMap((prop) => requireAbsent(r, 'List', prop, P));
  if (r.status !== 'current') issues.push(profileIssue('value', 'List.status', `${P}: List.status must be 'current'`));
  if (r.mode !== 'working') issues.push(profileIssue('value', 'List.mode', `${P}: List.mode must be 'working'`));
  issues.push(...checkCode(r.code), ...checkSubject(r.subject), ...checkCustodian(r.extension), ...checkSource(r.source));
  const withheld = codings(r.emptyReason).some((c) => c.system === CODE_SYSTEM.listEmptyReason && c.code === 'withheld');
  if (!withheld) {
    issues.push(profileIssue('value', 'List.emptyReason', `${P}: List.emptyReason must be ${CODE_SYSTEM.listEmptyReason}|withheld`));
  }
  return issues;
}

function checkCode(code: unknown): OperationOutcomeIssue[] {
  if (!isObject(code)) return [profileIssue('required', 'List.code', `${P}: List.code (the data category) is required`)];
  const ok = codings(code).some(
    (c) => c.system === CODE_SYSTEM.dataCategories && typeof c.code === 'string' && ZORGCONTEXT_CODES.has(c.code),
  );
  return ok
    ? []
    : [profileIssue('code-invalid', 'List.code', `${P}: List.code must be a patient data category from ${CODE_SYSTEM.dataCategories} (nl-gf-zorgcontext-vs)`)];
}

function checkSubject(subject: unknown): OperationOutcomeIssue[] {
  if (!isObject(subject)) return [profileIssue('required', 'List.subject', `${P}: List.subject (the NVI pseudonym) is required`)];
  const issues: OperationOutcomeIssue[] = [];
  if (subject.reference !== undefined) {
    issues.push(profileIssue('structure', 'List.subject.reference', `${P}: List.subject.reference is not allowed (identify the patient by pseudonym only)`));
  }
  const id = subject.identifier;
  if (!isObject(id)) {
    issues.push(profileIssue('required', 'List.subject.identifier', `${P}: List.subject.identifier is required`));
    return issues;
  }
  if (id.system !== SYSTEM.nviIdentifier) {
    issues.push(profileIssue('value', 'List.subject.identifier.system', `${P}: List.subject.identifier.system must be ${SYSTEM.nviIdentifier}`));
  }
  if (!isPseudonymToken(id.value)) {
    issues.push(
      profileIssue(
        'value',
        'List.subject.identifier.value',
        `${P}: List.subject.identifier.value must be base64url of a JSON object with evaluated_output and blind_factor`,
      ),
    );
  }
  return issues;
}

/** The NVI pseudonym token: base64url(JSON {evaluated_output, blind_factor}) as produced via the PRS. */
export function isPseudonymToken(value: unknown): boolean {
  if (typeof value !== 'string' || !/^[A-Za-z0-9_-]+$/.test(value)) return false;
  try {
    const decoded: unknown = JSON.parse(Buffer.from(value, 'base64url').toString('utf8'));
    return isObject(decoded) && isNonEmptyString(decoded.evaluated_output) && isNonEmptyString(decoded.blind_factor);
  } catch {
    return false;
  }
}

function checkCustodian(extensions: unknown): OperationOutcomeIssue[] {
  const all = asArray(extensions).filter(isObject);
  const custodians = all.filter((e) => e.url === EXTENSION.localizationCustodian);
  if (custodians.length !== 1) {
    return [
      profileIssue(
        custodians.length ? 'structure' : 'required',
        'List.extension',
        `${P}: exactly one ${EXTENSION.localizationCustodian} extension is required, found ${custodians.length}`,
      ),
    ];
  }
  const at = `List.extension[${all.indexOf(custodians[0])}]`;
  const ref = custodians[0].valueReference;
  if (!isObject(ref)) return [profileIssue('required', `${at}.valueReference`, `${P}: the custodian extension needs valueReference`)];
  const issues: OperationOutcomeIssue[] = [];
  if (ref.reference !== undefined) {
    issues.push(profileIssue('structure', `${at}.valueReference.reference`, `${P}: the custodian is identified by URA, not referenced`));
  }
  const id = ref.identifier;
  if (!isObject(id) || id.system !== SYSTEM.ura || !isNonEmptyString(id.value)) {
    issues.push(profileIssue('value', `${at}.valueReference.identifier`, `${P}: the custodian needs an identifier with system ${SYSTEM.ura} and a value`));
  }
  return issues;
}

function checkSource(source: unknown): OperationOutcomeIssue[] {
  if (!isObject(source)) return [profileIssue('required', 'List.source', `${P}: List.source (the registering software) is required`)];
  const issues: OperationOutcomeIssue[] = [];
  if (source.reference !== undefined) {
    issues.push(profileIssue('structure', 'List.source.reference', `${P}: List.source.reference is not allowed`));
  }
  const id = source.identifier;
  if (!isObject(id) || id.system !== SYSTEM.oauthClientId || !isNonEmptyString(id.value)) {
    issues.push(profileIssue('value', 'List.source.identifier', `${P}: List.source.identifier needs system ${SYSTEM.oauthClientId} and a value (the OAuth client_id)`));
  }
  return issues;
}

