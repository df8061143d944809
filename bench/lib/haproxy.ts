import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// HAProxy in TCP passthrough in front of several instances of a part: mutual TLS stays end to end
// (the load balancer never sees a certificate), new connections go to the least busy server.
// Debian's haproxy at /usr/sbin/haproxy (LDN_HAPROXY overrides); callers skip loudly without it.

export const HAPROXY = process.env.LDN_HAPROXY ?? '/usr/sbin/haproxy';

export function haproxyAvailable(): boolean {
  return existsSync(HAPROXY);
}

export { freePort } from '../../src/sandbox/free-port.ts';

export function haproxyConfig(port: number, servers: Array<{ host: string; port: number }>): string {
  return `global
  maxconn 4096
defaults
  mode tcp
  timeout connect 5s
  timeout client 120s
  timeout server 120s
frontend ldn
  bind 127.0.0.1:${port}
  default_backend parts
backend parts
  balance leastconn
${servers.map((s, i) => `  server i${i + 1} ${s.host}:${s.port} check inter 1s`).join('\n')}
`;
}

async function waitForPort(port: number, deadlineMs: number): Promise<void> {
  const until = Date.now() + deadlineMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const c = connect(port, '127.0.0.1', () => {
        c.destroy();
        resolve(true);
      });
      c.on('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > until) throw new Error(`haproxy did not listen on ${port}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export interface RunningHaproxy {
  port: number;
  stop(): Promise<void>;
}

/** Starts haproxy in the foreground (-db) as a child process with a generated configuration. */
export async function startHaproxy(port: number, servers: Array<{ host: string; port: number }>): Promise<RunningHaproxy> {
  const dir = mkdtempSync(join(tmpdir(), 'ldn-haproxy-'));
  const cfg = join(dir, 'haproxy.cfg');
  writeFileSync(cfg, haproxyConfig(port, servers));
  const child: ChildProcess = spawn(HAPROXY, ['-f', cfg, '-db'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d) => {
    stderr += d;
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    await Promise.race([waitForPort(port, 10_000), exited.then(() => Promise.reject(new Error(`haproxy exited: ${stderr.trim()}`)))]);
  } catch (err) {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    port,
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
