// A second reporter for node's test runner: adds up each test file's top-level tests and
// suites (their hooks included) and prints the slowest files at the end of the run, so the
// next person trimming CI time starts from figures. With LDN_TEST_TIMINGS=<path> it also
// writes every file's seconds as JSON, the input for scripts/test-weights.json.
import { writeFileSync } from 'node:fs';
import { relative } from 'node:path';

export default async function* timingReporter(source) {
  const seconds = new Map();
  for await (const event of source) {
    if (event.type !== 'test:pass' && event.type !== 'test:fail') continue;
    if (event.data.nesting !== 0 || !event.data.file) continue;
    const file = relative(process.cwd(), event.data.file);
    seconds.set(file, (seconds.get(file) ?? 0) + (event.data.details?.duration_ms ?? 0) / 1000);
  }
  const sorted = [...seconds].sort((a, b) => b[1] - a[1]);
  if (process.env.LDN_TEST_TIMINGS) {
    writeFileSync(process.env.LDN_TEST_TIMINGS, `${JSON.stringify(Object.fromEntries(sorted.map(([f, s]) => [f, Math.round(s)])), null, 2)}\n`);
  }
  yield '\nslowest test files (seconds, hooks included, not the file\'s start-up):\n';
  for (const [file, s] of sorted.slice(0, 15)) yield `  ${s.toFixed(0).padStart(5)}  ${file}\n`;
}
