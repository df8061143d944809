import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { createService } from '../src/kit/http/service.ts';
import type { PartDefinition } from '../src/kit/part.ts';
import { openIsolatedPgliteStore } from '../src/kit/store/pglite.ts';
import { createTestPki, staticNetwork } from '../src/kit/testing/test-pki.ts';
import { load } from './lib/load.ts';
import { argValue, figure } from './lib/report.ts';

// A part's /metadata over mutual TLS with keep-alive, against a bare node:https server with
// the same TLS settings (client certificate requested and verified) answering the same bytes.

const part: PartDefinition = {
  name: 'bench',
  schema: 'bench',
  migrations: [],
  capability: { description: 'benchmark part', resources: [{ type: 'Basic', interactions: ['read'] }] },
  async register() {},
};

export async function run(args: string[]): Promise<void> {
  const duration = argValue(args, '--duration', 5);
  const connections = argValue(args, '--connections', 16);
  const pki = await createTestPki();
  const server = await pki.identity('90000999');
  const caller = await pki.identity('90000101');
  const svc = await createService(part, { tls: server, network: staticNetwork({}), store: await openIsolatedPgliteStore('bench') });
  const body = (await svc.app.inject({ method: 'GET', url: '/metadata' })).body;

  const bare = createServer({ key: server.key, cert: server.cert, ca: server.ca, requestCert: true, rejectUnauthorized: true }, (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/fhir+json' });
    res.end(body);
  });
  await new Promise<void>((r) => bare.listen(0, '127.0.0.1', r));
  const bareUrl = `https://127.0.0.1:${(bare.address() as AddressInfo).port}/metadata`;

  const tls = { cert: caller.cert, key: caller.key, ca: caller.ca };
  await load(bareUrl, { connections, duration: 2, ...tls }); // warm-up both
  await load(`${svc.url}/metadata`, { connections, duration: 2, ...tls });
  // Interleave rounds (ceiling, ours, ceiling, ours, …) so a noisy neighbour hits both alike,
  // and report the median of the per-round ratios.
  const rounds = argValue(args, '--rounds', 3);
  const ratios: number[] = [];
  const oursRps: number[] = [];
  const bareRps: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const ceiling = await load(bareUrl, { connections, duration, ...tls });
    const ours = await load(`${svc.url}/metadata`, { connections, duration, ...tls });
    if (ours.non2xx > 0 || ours.errors > 0) throw new Error(`part answered ${ours.non2xx} non-2xx and ${ours.errors} errors`);
    ratios.push(ours.rps / ceiling.rps);
    oursRps.push(ours.rps);
    bareRps.push(ceiling.rps);
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  figure('http-baseline', 'metadata_rps', median(oursRps), { unit: 'req/s', connections });
  figure('http-baseline', 'bare_https_rps', median(bareRps), { unit: 'req/s', connections });
  figure('http-baseline', 'metadata_rps_ratio', median(ratios), {
    ceiling: 'bare node:https, same TLS settings',
    target: 0.7,
    rounds,
  });

  bare.close();
  await svc.close();
  await svc.store.close();
}
