import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';

// Several instances of a part behind one address, as in production: HAProxy in TCP passthrough
// (mutual TLS stays end to end: the instances see the callers' certificates), round robin, and a
// readiness check per instance (HTTPS GET /health/ready) so a dead or unready instance leaves the
// rotation within a second. Debian's haproxy; a sandbox asked for instances without it refuses.

export const HAPROXY = process.env.LDN_HAPROXY ?? '/usr/sbin/haproxy';

export function haproxyAvailable(): boolean {
  return existsSync(HAPROXY);
}

export interface LoadBalancer {
  url: string;
  port: number;
  stop(): Promise<void>;
}

/** A free TCP port on `host` (the balancer's address must be known before its instances start: their public URL). */
export { freePort } from './free-port.ts';

export function haproxyConfig(name: string, bind: { host: string; port: number }, backends: Array<{ host: string; port: number }>): string {
  return [
    'global',
    '  maxconn 2000',
    'defaults',
    '  mode tcp',
    '  timeout connect 2s',
    '  timeout client 60s',
    '  timeout server 60s',
    '  retries 2',
    '  option redispatch',
    `frontend ${name}`,
    `  bind ${bind.host}:${bind.port}`,
    `  default_backend ${name}_instances`,
    `backend ${name}_instances`,
    '  balance roundrobin',
    '  option httpchk',
    '  http-check send meth GET uri /health/ready',
    ...backends.map((b, i) => `  server ${name}${i + 1} ${b.host}:${b.port} check check-ssl verify none inter 500 fall 1 rise 1`),
    '',
  ].join('\n');
}

export async function startLoadBalancer(options: {
  name: string;
  dir: string;
  host: string;
  port: number;
  backends: Array<{ host: string; port: number }>;
  log: Logger;
}): Promise<LoadBalancer> {
  if (!haproxyAvailable()) throw new Error(`several instances need HAProxy at ${HAPROXY} (apt-get install haproxy)`);
  mkdirSync(options.dir, { recursive: true });
  const file = join(options.dir, `haproxy-${options.name}.cfg`);
  writeFileSync(file, haproxyConfig(options.name, { host: options.host, port: options.port }, options.backends));
  const child: ChildProcess = spawn(HAPROXY, ['-db', '-f', file], { stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr?.on('data', (d: Buffer) => options.log.debug({ part: options.name, haproxy: d.toString().trim() }, 'haproxy'));
  await waitForPort(options.host, options.port, child);
  options.log.info({ event: 'sandbox.load-balancer', part: options.name, port: options.port, instances: options.backends.length }, 'load balancer up');
  return {
    url: `https://${options.host}:${options.port}`,
    port: options.port,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

async function waitForPort(host: string, port: number, child: ChildProcess): Promise<void> {
  const { connect } = await import('node:net');
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) throw new Error(`haproxy exited with ${child.exitCode}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, host, () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`haproxy did not listen on ${host}:${port}`);
}
