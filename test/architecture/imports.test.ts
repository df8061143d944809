import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type ImportEdge, importGraph, partOf } from './imports.ts';
import { KNOWN_CROSSINGS } from './known-crossings.ts';

// The house rules the import graph can hold (issue 16):
//  - the sandbox's fictional cast is data for the sandbox, the EHR simulator, benchmarks and
//    tests only: production code takes organisations, people and the operator's URA as
//    parameters or configuration;
//  - a part uses another part only through that part's src/<part>/contract.ts (and the kit);
//    the composers (sandbox, cli), tests and test helpers may import anything.

const CAST = 'src/sandbox/cast.ts';
const COMPOSERS = new Set(['sandbox', 'cli']);

function isTestCode(file: string): boolean {
  const name = file.split('/').at(-1) ?? '';
  return file.startsWith('test/') || file.startsWith('bench/') || file.startsWith('scripts/') || name.endsWith('.test.ts') || name.startsWith('test-') || name.endsWith('.fixture.ts') || file.includes('/testing/');
}

/** Who may import the cast: the composers, the EHR simulator's fixtures, benchmarks and tests. */
export function mayImportCast(file: string): boolean {
  return file.startsWith('src/sandbox/') || file.startsWith('src/node/ehr-sim/') || isTestCode(file);
}

/** The crossing an import makes into another part's internals, as `part -> file`; undefined when it makes none. */
export function crossing(e: ImportEdge): string | undefined {
  const from = partOf(e.from);
  const to = partOf(e.to);
  if (!from || !to || from === to || to === 'kit' || e.to === `src/${to}/contract.ts`) return undefined;
  if (COMPOSERS.has(from) || e.from.startsWith('src/node/ehr-sim/') || isTestCode(e.from)) return undefined;
  return `${from} -> ${e.to}`;
}

describe('the import graph', () => {
  const edges = importGraph();

  it('is read, type-only imports included', () => {
    assert.ok(edges.some((e) => e.from === 'src/sandbox/people.ts' && e.to === CAST));
    // `import type` only: the rule must see these too.
    assert.ok(edges.some((e) => e.from === 'src/portals/ports.ts' && e.to === 'src/trust/contract.ts'));
  });

  it('keeps the sandbox cast out of production code', () => {
    const offenders = edges.filter((e) => e.to === CAST && !mayImportCast(e.from)).map((e) => e.from);
    assert.deepEqual(offenders, [], `production modules importing the cast: ${offenders.join(', ')}`);
  });

  it('lets no part reach into another part beyond its contract, except the debts on record', () => {
    const found = new Set(edges.map(crossing).filter((c): c is string => c !== undefined));
    const added = [...found].filter((c) => !KNOWN_CROSSINGS.has(c));
    assert.deepEqual(added, [], `import the part's contract.ts (or move shared code into the kit) instead of: ${added.join(', ')}`);
    const paid = [...KNOWN_CROSSINGS].filter((c) => !found.has(c));
    assert.deepEqual(paid, [], `debts paid: delete these lines from test/architecture/known-crossings.ts: ${paid.join(', ')}`);
  });

  it('the rules would catch an offender', () => {
    assert.equal(mayImportCast('src/trust/seed.ts'), false);
    assert.equal(mayImportCast('src/referral-index/test-network.ts'), true);
    assert.equal(crossing({ from: 'src/portals/ports.ts', to: 'src/trust/register/participants.ts' }), 'portals -> src/trust/register/participants.ts');
    assert.equal(crossing({ from: 'src/portals/ports.ts', to: 'src/trust/contract.ts' }), undefined);
    assert.equal(crossing({ from: 'src/node/part.ts', to: 'src/kit/part.ts' }), undefined);
    assert.equal(crossing({ from: 'src/sandbox/seed.ts', to: 'src/trust/seed.ts' }), undefined);
  });
});
