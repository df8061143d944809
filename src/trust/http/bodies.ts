import { isIP } from 'node:net';
import { badRequest } from '../../kit/fhir/outcome.ts';

// Shape checks for the trust API's JSON bodies: a body that is not what a route expects is a
// 400 OperationOutcome naming the field, never a TypeError deeper down (which would be a 500).

export type Body = Record<string, unknown>;

/** The body as a JSON object; `optional` routes also accept no body at all. */
export function objectBody(body: unknown, options: { optional?: boolean } = {}): Body {
  if (body === undefined && options.optional) return {};
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw badRequest('the request body must be a JSON object');
  return body as Body;
}

export function requiredText(b: Body, field: string): string {
  const v = b[field];
  if (typeof v !== 'string' || v.trim() === '') throw badRequest(`${field} is required (a string)`, [field]);
  return v;
}

export function optionalText(b: Body, field: string): string | undefined {
  const v = b[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw badRequest(`${field} must be a string`, [field]);
  return v;
}

export function optionalTextList(b: Body, field: string, check?: (item: string) => boolean): string[] | undefined {
  const v = b[field];
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string' && (!check || check(x)))) {
    throw badRequest(`${field} must be an array of ${check ? 'valid ' : ''}strings`, [field]);
  }
  return v as string[];
}

export function optionalNumber(b: Body, field: string): number | undefined {
  const v = b[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw badRequest(`${field} must be a number`, [field]);
  return v;
}

/** A postal address: line (array of strings), postalCode, city, country. */
export function optionalAddress(b: Body, field: string): { line?: string[]; postalCode?: string; city?: string; country?: string } | undefined {
  const v = b[field];
  if (v === undefined || v === null) return undefined;
  const a = objectBody(v);
  const unknown = Object.keys(a).filter((k) => !['line', 'postalCode', 'city', 'country'].includes(k));
  if (unknown.length) throw badRequest(`${field} has unknown fields: ${unknown.join(', ')}`, [field]);
  const line = optionalTextList(a, 'line');
  const postalCode = optionalText(a, 'postalCode');
  const city = optionalText(a, 'city');
  const country = optionalText(a, 'country');
  return { ...(line ? { line } : {}), ...(postalCode ? { postalCode } : {}), ...(city ? { city } : {}), ...(country ? { country } : {}) };
}

const HOSTNAME = /^(?=.{1,253}$)(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i;
export const isHostname = (s: string): boolean => HOSTNAME.test(s);
export const isIpAddress = (s: string): boolean => isIP(s) !== 0;
