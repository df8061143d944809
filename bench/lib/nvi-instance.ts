import { spawn } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { TlsIdentity } from '../../src/kit/part.ts';

// One NVI instance as its own OS process, as `ldn serve nvi` runs it in production: its own event
// loop and crypto workers, the shared PostgreSQL schema, the same JWE and index keys as every other
// instance (settings), and the load balancer's URL as its public URL (the access tokens' audience).

const INSTANCE_FLAG = '--nvi-instance';

export interface InstanceInput {
  tls: TlsIdentity;
  trustUrl: string;
  prsUrl: string;
  publicUrl: string;
  databaseUrl: string;
  schema: string;
  poolSize: number;
  cryptoWorkers: number | 'auto' | 'off';
  settings: Record<string, string>;
  /** The caller's register entry the instance answers for every URA (as the bench's in-process NVI does). */
  standing: unknown;
}

async function instanceMain(): Promise<void> {
  let text = '';
  for await (const chunk of process.stdin) text += chunk;
  const input = JSON.parse(text) as InstanceInput;
  const { createService } = await import('../../src/kit/http/service.ts');
  const { openStore } = await import('../../src/kit/store/open.ts');
  const { createNviPart } = await import('../../src/referral-index/part.ts');
  const { nviMigrations } = await import('../../src/referral-index/migrations.ts');
  const { staticNetwork } = await import('../../src/kit/testing/test-pki.ts');
  const { defaultAgreements } = await import('../../src/trust/agreements/default-agreements.ts');
  const agreements = defaultAgreements();
  const store = await openStore({ schema: input.schema, databaseUrl: input.databaseUrl, poolSize: input.poolSize }, nviMigrations);
  const svc = await createService(createNviPart({ cryptoWorkers: input.cryptoWorkers, participant: async () => input.standing as never, agreements: async () => agreements }), {
    tls: input.tls,
    network: staticNetwork({ trust: input.trustUrl, prs: input.prsUrl }),
    store,
    publicUrl: input.publicUrl,
    settings: input.settings,
  });
  process.stdout.write(`${JSON.stringify({ port: (svc.app.server.address() as AddressInfo).port })}\n`);
  process.once('SIGTERM', () => {
    void svc.close().finally(() => process.exit(0));
  });
}

export interface NviInstance {
  port: number;
  stop(): Promise<void>;
}

export function spawnNviInstance(input: InstanceInput): Promise<NviInstance> {
  const file = fileURLToPath(import.meta.url);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', file, INSTANCE_FLAG], { stdio: ['pipe', 'pipe', 'inherit'], env: { ...process.env, LDN_LOG_LEVEL: 'error' } });
    child.stdin.end(JSON.stringify(input));
    let out = '';
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    child.once('exit', (code) => reject(new Error(`NVI instance exited ${code} before listening`)));
    child.stdout.on('data', (d) => {
      out += d;
      const nl = out.indexOf('\n');
      if (nl < 0) return;
      const { port } = JSON.parse(out.slice(0, nl)) as { port: number };
      resolve({
        port,
        async stop() {
          if (child.exitCode === null) {
            child.kill('SIGTERM');
            await exited;
          }
        },
      });
    });
  });
}

if (process.argv.includes(INSTANCE_FLAG)) await instanceMain();
