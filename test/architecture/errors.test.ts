import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { AUDIT_ERRORS } from '../../src/audit/contract.ts';
import { IDENTITY_ERRORS } from '../../src/identity/contract.ts';
import { type ErrorCodes, KIT_ERRORS } from '../../src/kit/errors.ts';
import { NCPEH_ERRORS } from '../../src/ncpeh/contract.ts';
import { NODE_ERRORS } from '../../src/node/contract.ts';
import { PORTAL_ERRORS } from '../../src/portals/errors.ts';
import { PRS_ERRORS } from '../../src/pseudonyms/contract.ts';
import { NVI_ERRORS } from '../../src/referral-index/contract.ts';
import { HDAB_ERRORS } from '../../src/secondary-use/contract.ts';
import { TRUST_ERRORS } from '../../src/trust/contract.ts';

// Errors with codes (issue 16 item 7), held by a test: every error class in src/ is an LdnError
// (kit/errors.ts), answered with its code by the kit's one handler, unless it is named below with
// the reason it is not. A new `extends Error` fails here until it is coded or argued for.

const NOT_CODED: Record<string, string> = {
  // Control flow: never leaves its module as an answer.
  PastDeadline: 'node/integration: stop waiting for a holder; becomes that holder\'s "timeout" result',
  Stopped: 'node/bulk-export: ends an extraction loop early; caught where it is thrown',
  // Another service's answer as a client sees it: its status is theirs, its meaning the caller's.
  UpstreamError: "kit/http/client: another part's answer (its status, its outcome and errorCode); callers say what it means for theirs",
  TokenRequestError: "trust/auth/token-provider: an authorization server's refusal as its client sees it (RFC 6749 error, their status)",
};

/** Every code table, by the part prefix its codes must carry. */
const TABLES: Record<string, ErrorCodes> = {
  KIT: KIT_ERRORS,
  AUDIT: AUDIT_ERRORS,
  IDENTITY: IDENTITY_ERRORS,
  NODE: NODE_ERRORS,
  PRS: PRS_ERRORS,
  NVI: NVI_ERRORS,
  TRUST: TRUST_ERRORS,
  NCPEH: NCPEH_ERRORS,
  PORTAL: PORTAL_ERRORS,
  HDAB: HDAB_ERRORS,
};

function sourceFiles(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) sourceFiles(p, out);
    else if (name.endsWith('.ts') && !name.endsWith('.test.ts') && !p.includes('/testing/')) out.push(p);
  }
  return out;
}

/** Every `class X extends Y` in src/ (production code), as X → { parent Y, file }. */
function classes(): Map<string, { parent: string; file: string }> {
  const found = new Map<string, { parent: string; file: string }>();
  for (const file of sourceFiles('src')) {
    for (const m of readFileSync(file, 'utf8').matchAll(/\bclass\s+(\w+)\s+extends\s+([\w.]+)/g)) found.set(m[1], { parent: m[2], file });
  }
  return found;
}

/** Where the chain of `name` ends: 'LdnError', 'Error', an allow-listed class, or a class from outside src/. */
function rootOf(name: string, all: Map<string, { parent: string }>): string {
  let at = name;
  for (let hops = 0; hops < 20; hops++) {
    if (at === 'LdnError' || at === 'Error' || (at !== name && at in NOT_CODED)) return at;
    const next = all.get(at);
    if (!next) return at;
    at = next.parent;
  }
  throw new Error(`class chain of ${name} does not end`);
}

describe('errors with codes', () => {
  const all = classes();

  it('finds the error classes (the scan works)', () => {
    assert.equal(all.get('HttpError')?.parent, 'LdnError');
    assert.equal(all.get('UpstreamError')?.parent, 'Error');
    assert.ok(all.size > 20, `only ${all.size} classes found`);
  });

  it('every error class in src/ is an LdnError, or is named with the reason it is not', () => {
    const offenders = [...all.keys()].filter((name) => !(name in NOT_CODED) && rootOf(name, all) === 'Error').map((name) => `${name} (${all.get(name)?.file})`);
    assert.deepEqual(offenders, [], `make these LdnErrors with a code in their part's table, or name them in NOT_CODED with why: ${offenders.join(', ')}`);
  });

  it('names no class in NOT_CODED that no longer exists, or that is an LdnError after all', () => {
    const stale = Object.keys(NOT_CODED).filter((name) => !all.has(name) || rootOf(name, all) === 'LdnError');
    assert.deepEqual(stale, [], `remove from NOT_CODED: ${stale.join(', ')}`);
  });

  it("every code carries its part's prefix, means an error status, and no two parts share a code", () => {
    const seen = new Set<string>();
    for (const [prefix, table] of Object.entries(TABLES)) {
      for (const [code, meaning] of Object.entries(table)) {
        assert.ok(code.startsWith(`ERR_${prefix}_`), `${code} is in the ${prefix} table`);
        assert.ok(meaning.status >= 400 && meaning.status <= 599, code);
        assert.ok(!seen.has(code), `${code} twice`);
        seen.add(code);
      }
    }
  });

  it('the rule would catch an offender', () => {
    const withNew = new Map(all).set('BrandNewError', { parent: 'Error', file: 'src/x.ts' });
    assert.equal(rootOf('BrandNewError', withNew), 'Error');
    assert.equal(rootOf('ConnectionFailed', all), 'UpstreamError');
    assert.equal(rootOf('ArchiveError', all), 'LdnError');
  });
});
