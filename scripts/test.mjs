#!/usr/bin/env node
// Runs every *.test.ts under src/ and test/ with node's test runner (tsx loader).
// Node 20's --test does not expand globs, so we list the files ourselves.
// Pass paths or substrings as arguments to run a subset: `node scripts/test.mjs consent`.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

function walk(dir, out = []) {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

// The runner starts files in the order given, two at a time: the slowest (end-to-end suites;
// seconds from earlier runs in scripts/test-weights.json, which the runner writes with LDN_TEST_TIMINGS) go
// first, so that no long suite starts last and runs alone while the other worker idles.
const weightsFile = new URL('./test-weights.json', import.meta.url);
const weights = existsSync(weightsFile) ? JSON.parse(readFileSync(weightsFile, 'utf8')) : {};
const weightOf = (f) => weights[f.split('\\').join('/')] ?? 0;

const filters = process.argv.slice(2);
const files = [...walk('src'), ...walk('test')]
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort((a, b) => weightOf(b) - weightOf(a) || a.localeCompare(b));
if (files.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}
// The files run in this order through scripts/test-runner.mjs (node:test's run(); the command
// line runner would sort them). A single test may take at most 20 minutes.
const child = spawn(
  process.execPath,
  ['--import', 'tsx', '--test-timeout=1200000', new URL('./test-runner.mjs', import.meta.url).pathname, ...files],
  { stdio: 'inherit', env: { ...process.env, LDN_LOG_LEVEL: process.env.LDN_LOG_LEVEL ?? 'silent' } },
);
child.on('exit', (code) => process.exit(code ?? 1));
