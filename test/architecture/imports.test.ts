import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { importGraph } from './imports.ts';

// The house rules that the import graph can hold (issue 16). The sandbox's fictional cast is
// data for the sandbox, the EHR simulator and tests only: production code takes organisations,
// people and the operator's URA as parameters or configuration.

const CAST = 'src/sandbox/cast.ts';

/** Who may import the cast: the composers (sandbox), the EHR simulator's fixtures, benchmarks and tests. */
function mayImportCast(file: string): boolean {
  const name = file.split('/').at(-1) ?? '';
  return (
    file.startsWith('src/sandbox/') ||
    file.startsWith('src/node/ehr-sim/') ||
    file.startsWith('bench/') ||
    file.startsWith('test/') ||
    name.endsWith('.test.ts') ||
    name.startsWith('test-')
  );
}

describe('the import graph', () => {
  const edges = importGraph(['src', 'test', 'bench']);

  it('is read (the reader sees the imports it must judge)', () => {
    assert.ok(edges.some((e) => e.from === 'src/sandbox/people.ts' && e.to === CAST));
    assert.ok(edges.some((e) => e.from === 'src/node/part.ts' && e.to === 'src/kit/rules/qualification.ts'));
  });

  it('keeps the sandbox cast out of production code', () => {
    const offenders = edges.filter((e) => e.to === CAST && !mayImportCast(e.from)).map((e) => e.from);
    assert.deepEqual(offenders, [], `production modules importing the cast: ${offenders.join(', ')}`);
  });

  it('the rule would catch a production importer', () => {
    assert.equal(mayImportCast('src/trust/seed.ts'), false);
    assert.equal(mayImportCast('src/identity/directory.ts'), false);
    assert.equal(mayImportCast('src/referral-index/test-network.ts'), true);
  });
});
