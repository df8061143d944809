import type { Check } from './types.ts';

// The conformance report in three forms: readable text, JUnit XML (for CI systems) and one HTML
// page (for the vendor's records). All three list every rule with its verdict and what was seen.

export interface ConformanceReport {
  target: string;
  role: string;
  exchange?: string;
  startedAt: string;
  checks: Check[];
}

export const passed = (r: ConformanceReport) => r.checks.every((c) => c.ok);
export const failures = (r: ConformanceReport) => r.checks.filter((c) => !c.ok);

export function textReport(r: ConformanceReport): string {
  const lines = [`LDN conformance: ${r.role} at ${r.target}${r.exchange ? ` (exchange ${r.exchange})` : ''}`, ''];
  for (const c of r.checks) lines.push(`${c.ok ? 'PASS' : 'FAIL'}  ${c.rule}: ${c.detail}`);
  const failed = failures(r).length;
  lines.push('', failed === 0 ? `All ${r.checks.length} rules pass.` : `${failed} of ${r.checks.length} rules fail: ${failures(r).map((c) => c.rule).join(', ')}`);
  return `${lines.join('\n')}\n`;
}

const xml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');

export function junitReport(r: ConformanceReport): string {
  const suite = `ldn-conformance.${r.role}`;
  const cases = r.checks.map((c) =>
    c.ok
      ? `    <testcase classname="${xml(suite)}" name="${xml(c.rule)}"><system-out>${xml(c.detail)}</system-out></testcase>`
      : `    <testcase classname="${xml(suite)}" name="${xml(c.rule)}"><failure message="${xml(c.detail)}" type="nonconformance">${xml(c.detail)}</failure></testcase>`,
  );
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="LDN conformance" tests="${r.checks.length}" failures="${failures(r).length}">`,
    `  <testsuite name="${xml(suite)}" tests="${r.checks.length}" failures="${failures(r).length}" timestamp="${xml(r.startedAt)}" hostname="${xml(r.target)}">`,
    ...cases,
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n');
}

export function htmlReport(r: ConformanceReport): string {
  const rows = r.checks
    .map((c) => `<tr class="${c.ok ? 'pass' : 'fail'}"><td>${c.ok ? 'PASS' : 'FAIL'}</td><td><code>${xml(c.rule)}</code></td><td>${xml(c.detail)}</td></tr>`)
    .join('\n');
  const verdict = passed(r) ? `All ${r.checks.length} rules pass.` : `${failures(r).length} of ${r.checks.length} rules fail.`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>LDN conformance: ${xml(r.role)} at ${xml(r.target)}</title>
<style>body{font-family:system-ui,sans-serif;margin:2rem}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.3rem .6rem;text-align:left}.pass td:first-child{color:#14602c}.fail td:first-child{color:#a00;font-weight:bold}</style></head>
<body><h1>LDN conformance report</h1>
<p>Role <strong>${xml(r.role)}</strong>, target <code>${xml(r.target)}</code>${r.exchange ? `, exchange <code>${xml(r.exchange)}</code>` : ''}, run ${xml(r.startedAt)}.</p>
<p><strong>${verdict}</strong></p>
<table><thead><tr><th>verdict</th><th>rule</th><th>seen</th></tr></thead><tbody>
${rows}
</tbody></table></body></html>
`;
}
