import type { Sandbox } from '../sandbox/sandbox.ts';

export function printSummary(sandbox: Pick<Sandbox, 'manifest' | 'manifestPath'>, ms: number): void {
  const m = sandbox.manifest;
  const lines = [
    '',
    `LDN sandbox ready in ${(ms / 1000).toFixed(1)} s  (storage: ${m.storage})`,
    '',
    ...(m.portal ? [`  Portal (citizens, operator):  ${m.portal.url}`] : []),
    ...m.nodes.map((n) => `  Clinician viewer (${n.name.padEnd(7)}):  ${n.viewer}`),
    '',
    '  Central services:',
    ...Object.entries(m.services).map(([name, s]) => `    ${name.padEnd(17)} ${s.url}${s.pid ? `  (pid ${s.pid})` : ''}`),
    '',
    `  Participants: ${m.participants.map((p) => p.name).join(', ')}`,
    `  Clinicians: ${m.users.clinicians.length}, citizens: ${m.users.citizens.length} (Mr De Groot: BSN ${m.users.citizens[0]?.bsn})`,
    '',
    `  Manifest:  ${sandbox.manifestPath}`,
    `  CA:        ${m.ca.cert}`,
    '',
    '  Try:  curl --cacert <CA> --cert <participant cert> --key <key> <service>/metadata',
    '  Stop with Ctrl-C.',
    '',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}
