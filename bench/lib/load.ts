import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface LoadResult {
  rps: number;
  non2xx: number;
  errors: number;
  p99: number;
}

/** Drives `url` with keep-alive connections from a separate process (mTLS when cert/key are given). */
export function load(url: string, o: { connections: number; duration: number; cert?: string; key?: string; ca?: string }): Promise<LoadResult> {
  const worker = join(dirname(fileURLToPath(import.meta.url)), 'load-worker.ts');
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', worker, JSON.stringify({ url, ...o })], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`load worker exited ${code}`))));
  });
}
