// Runs the test files it is given, in that order, two at a time, with node:test's run() API.
// Started by scripts/test.mjs as `node --import tsx --test-timeout=… test-runner.mjs <files>`:
// the files' processes inherit those flags. Why not `node --test <files>`: the command line
// runner sorts its files, so the heaviest suites could not be started first.
// Prints the spec report, a plain "N passed, N failed" line, and the slowest files; with
// LDN_TEST_TIMINGS=<path> it also writes every file's seconds as JSON (input for
// scripts/test-weights.json).
import { writeFileSync } from 'node:fs';
import { relative } from 'node:path';
import { run } from 'node:test';
import { spec } from 'node:test/reporters';

const files = process.argv.slice(2);
const seconds = new Map();
let passed = 0;
let failed = 0;
let skipped = 0;

const stream = run({
  files,
  concurrency: 2,
  // A file whose tests are done exits even if a handle stays open (a sandbox whose start failed
  // half-way kept two files alive 40 minutes), and no file may hang the run: CI has a time limit.
  forceExit: true,
  timeout: 30 * 60_000,
});

stream.on('test:pass', (d) => count(d, false));
stream.on('test:fail', (d) => count(d, true));

function count(data, isFailure) {
  if (data.file && data.nesting === 0) {
    const file = relative(process.cwd(), data.file);
    seconds.set(file, (seconds.get(file) ?? 0) + (data.details?.duration_ms ?? 0) / 1000);
  }
  if (data.details?.type === 'suite') return;
  if (data.skip || data.todo) skipped++;
  else if (isFailure) failed++;
  else passed++;
}

stream.compose(spec).pipe(process.stdout);

stream.on('end', () => {
  const sorted = [...seconds].sort((a, b) => b[1] - a[1]);
  if (process.env.LDN_TEST_TIMINGS) {
    writeFileSync(process.env.LDN_TEST_TIMINGS, `${JSON.stringify(Object.fromEntries(sorted.map(([f, s]) => [f, Math.round(s)])), null, 2)}\n`);
  }
  const lines = ['', "slowest test files (seconds, hooks included, not the file's start-up):"];
  for (const [file, s] of sorted.slice(0, 15)) lines.push(`  ${s.toFixed(0).padStart(5)}  ${file}`);
  lines.push('', `${passed} passed, ${failed} failed, ${skipped} skipped`);
  // After the spec reporter has flushed its summary.
  setImmediate(() => {
    process.stdout.write(`${lines.join('\n')}\n`);
    process.exitCode = failed > 0 ? 1 : 0;
  });
});
