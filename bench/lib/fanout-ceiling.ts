import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { Agent, request } from 'undici';
import type { TlsIdentity } from '../../src/kit/part.ts';

// The ceiling for overviews per second: the same fan-out (one mTLS POST to each of N holders, in
// parallel, keep-alive) against a bare node:https server that only waits `latencyMs` and answers
// `responseBytes` of JSON. Nothing of LDN runs: no tokens, policy, consent, EHR, merge or audit.

export interface CeilingServer {
  url: string;
  close(): Promise<void>;
}

export async function startCeilingServer(identity: TlsIdentity, o: { latencyMs: number; responseBytes: number }): Promise<CeilingServer> {
  const payload = JSON.stringify({ resourceType: 'Bundle', type: 'batch-response', padding: 'x'.repeat(Math.max(0, o.responseBytes - 60)) });
  const server: Server = createServer({ cert: identity.cert, key: identity.key, ca: identity.ca, requestCert: true, rejectUnauthorized: true }, (req, res) => {
    req.resume();
    req.on('end', () => {
      setTimeout(() => res.writeHead(200, { 'content-type': 'application/fhir+json', 'content-length': Buffer.byteLength(payload) }).end(payload), o.latencyMs);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `https://127.0.0.1:${(server.address() as AddressInfo).port}/fhir`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Runs `total` fan-outs of `holders` parallel calls with `concurrency` workers; returns fan-outs per second. */
export async function ceilingRate(url: string, client: TlsIdentity, o: { holders: number; concurrency: number; total: number }): Promise<number> {
  const agent = new Agent({ connect: { cert: client.cert, key: client.key, ca: client.ca }, connections: 64, keepAliveTimeout: 30_000 });
  const body = JSON.stringify({ resourceType: 'Bundle', type: 'batch', entry: [] });
  const fanOut = () =>
    Promise.all(
      Array.from({ length: o.holders }, async () => {
        const r = await request(url, { method: 'POST', body, headers: { 'content-type': 'application/fhir+json' }, dispatcher: agent });
        await r.body.text();
        if (r.statusCode !== 200) throw new Error(`ceiling server answered ${r.statusCode}`);
      }),
    );
  try {
    await fanOut(); // connections up before timing
    let next = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: o.concurrency }, async () => {
        while (next++ < o.total) await fanOut();
      }),
    );
    return o.total / ((performance.now() - started) / 1000);
  } finally {
    await agent.close();
  }
}
