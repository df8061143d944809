import { isValidBsn } from '../../kit/identifiers/bsn.ts';
import type { DatePrecision } from '../../secondary-use/contract.ts';

// A scanner over extract files (NDJSON): finds what must never leave a holder. Used by the tests
// over every file an export writes and usable over a workspace. Without knowing any patient it
// flags exact dates, 11-test-valid 9-digit numbers (BSN-like) and identifying elements; given the
// patients' own values it also flags those wherever they occur.

export interface ScanOptions {
  /** Known identifying values (BSNs, names, addresses, telecom, EHR ids), matched case-insensitively. */
  forbidden?: readonly string[];
  precision?: DatePrecision;
}

/**
 * Coded values, where long digit runs are identifiers of concepts and editions (SNOMED's Dutch
 * module 11000146104 holds an 11-test-valid window): not BSN-like. The patient's own BSN is still
 * found there through `forbidden`.
 */
const CODE_KEYS = new Set(['code', 'system', 'version']);
const IDENTIFYING = new Set(['identifier', 'name', 'telecom', 'address', 'photo', 'contact', 'text']);
const EXACT_DATE = /\d{4}-\d{2}-\d{2}/;
const MONTH = /^\d{4}-\d{2}/;
/** Pseudonyms and opaque ids the de-identification writes: skipped by the free-text checks. */
const SAFE_REF = /^(?:[A-Z][A-Za-z]+\/)?(?:[0-9a-f]{32}|[0-9a-f]{40})$|^#[A-Za-z0-9.-]+$/;

export function scanExtract(ndjson: string, options: ScanOptions = {}): string[] {
  const findings: string[] = [];
  const forbidden = (options.forbidden ?? []).filter((f) => f.length >= 3).map((f) => f.toLowerCase());
  const lines = ndjson.split('\n').filter((l) => l.trim() !== '');
  lines.forEach((line, n) => {
    let resource: unknown;
    try {
      resource = JSON.parse(line);
    } catch {
      findings.push(`line ${n + 1}: not JSON`);
      return;
    }
    const walk = (v: unknown, path: string, key: string) => {
      if (typeof v === 'string') {
        if (key === 'resourceType') return;
        if ((key === 'reference' || key === 'id') && SAFE_REF.test(v)) return;
        if (EXACT_DATE.test(v)) findings.push(`line ${n + 1} ${path}: exact date`);
        if (options.precision === 'year' && MONTH.test(v) && key !== 'code') findings.push(`line ${n + 1} ${path}: month in a year-precision extract`);
        if (!CODE_KEYS.has(key)) for (const m of v.match(/\d{9,}/g) ?? []) for (let i = 0; i + 9 <= m.length; i++) if (isValidBsn(m.slice(i, i + 9))) findings.push(`line ${n + 1} ${path}: BSN-like number`);
        const lower = v.toLowerCase();
        for (const f of forbidden) if (lower.includes(f)) findings.push(`line ${n + 1} ${path}: identifying value`);
      } else if (typeof v === 'number') {
        if (isValidBsn(String(v))) findings.push(`line ${n + 1} ${path}: BSN-like number`);
      } else if (Array.isArray(v)) {
        for (const [i, x] of v.entries()) walk(x, `${path}[${i}]`, key);
      } else if (typeof v === 'object' && v !== null) {
        for (const [k, x] of Object.entries(v)) {
          if (IDENTIFYING.has(k) && !(k === 'text' && typeof x === 'string')) findings.push(`line ${n + 1} ${path}.${k}: identifying element`);
          walk(x, `${path}.${k}`, k);
        }
      }
    };
    walk(resource, (resource as { resourceType?: string })?.resourceType ?? '?', '');
  });
  return findings;
}
