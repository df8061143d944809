import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { request } from 'undici';
import type { ArchiveConnection } from '../../node/imaging/archive-client.ts';
import { freePort } from '../free-port.ts';

// One Orthanc image archive (Debian packages orthanc + orthanc-dicomweb) owned by the sandbox or
// a benchmark: a generated configuration on a free loopback port, a temporary storage directory,
// HTTP basic authentication with a random password that only the node is given, no DICOM
// (DIMSE) listener. Stopped (and its storage removed) with its owner; killed if the owner exits.

export const ORTHANC_BIN = process.env.LDN_ORTHANC_BIN ?? '/usr/sbin/Orthanc';
export const DICOMWEB_PLUGIN = process.env.LDN_ORTHANC_DICOMWEB_PLUGIN ?? '/usr/share/orthanc/plugins/libOrthancDicomWeb.so';

/** Why Orthanc cannot run here (undefined: it can). */
export function orthancMissing(): string | undefined {
  if (!existsSync(ORTHANC_BIN)) return `Orthanc not found at ${ORTHANC_BIN} (Debian package orthanc)`;
  if (!existsSync(DICOMWEB_PLUGIN)) return `the DICOMweb plugin is missing at ${DICOMWEB_PLUGIN} (Debian package orthanc-dicomweb)`;
  return undefined;
}


export interface RunningOrthanc {
  name: string;
  /** Orthanc's REST root (uploads). */
  restUrl: string;
  connection: ArchiveConnection;
  pid: number | undefined;
  /** Stores one DICOM Part 10 file. */
  upload(dicom: Buffer): Promise<void>;
  stop(): Promise<void>;
}

function authHeader(c: { username: string; password: string }): string {
  return `Basic ${Buffer.from(`${c.username}:${c.password}`).toString('base64')}`;
}

async function waitReady(url: string, auth: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (child.exitCode !== null) throw new Error(`Orthanc exited with code ${child.exitCode} while starting`);
    const ok = await request(`${url}/system`, { headers: { authorization: auth }, signal: AbortSignal.timeout(1000) })
      .then(async (r) => {
        await r.body.dump();
        return r.statusCode === 200;
      })
      .catch(() => false);
    if (ok) return;
    await new Promise((r) => setTimeout(r, 150));
  }
  throw new Error(`Orthanc did not answer at ${url} within ${timeoutMs} ms`);
}

export async function startOrthanc(options: { name: string; log?: Logger; startTimeoutMs?: number }): Promise<RunningOrthanc> {
  const missing = orthancMissing();
  if (missing) throw new Error(missing);
  const dir = await mkdtemp(join(tmpdir(), 'ldn-orthanc-'));
  const credentials = { username: 'ldn-node', password: randomBytes(18).toString('base64url') };
  let child: ChildProcess | undefined;
  const killOnExit = () => child?.kill('SIGKILL');
  // A port taken between probing and binding makes Orthanc exit: try a few ports.
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const config = {
      Name: `LDN ${options.name}`,
      StorageDirectory: join(dir, 'storage'),
      IndexDirectory: join(dir, 'storage'),
      HttpPort: port,
      HttpServerEnabled: true,
      DicomServerEnabled: false,
      RemoteAccessAllowed: false,
      AuthenticationEnabled: true,
      RegisteredUsers: { [credentials.username]: credentials.password },
      Plugins: [DICOMWEB_PLUGIN],
      DicomWeb: { Enable: true, Root: '/dicom-web/', EnableWado: false },
      StorageCompression: false,
      HttpCompressionEnabled: false,
      SaveJobs: false,
    };
    const configFile = join(dir, 'orthanc.json');
    await writeFile(configFile, JSON.stringify(config, null, 2), { mode: 0o600 });
    child = spawn(ORTHANC_BIN, [configFile], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-4000);
    });
    process.once('exit', killOnExit);
    const restUrl = `http://127.0.0.1:${port}`;
    try {
      await waitReady(restUrl, authHeader(credentials), child, options.startTimeoutMs ?? 30_000);
    } catch (err) {
      child.kill('SIGKILL');
      process.off('exit', killOnExit);
      if (attempt < 2 && child.exitCode !== null) continue;
      await rm(dir, { recursive: true, force: true });
      throw new Error(`${(err as Error).message}\n${stderr}`);
    }
    const running = child;
    options.log?.info({ archive: options.name, url: restUrl, pid: running.pid }, 'Orthanc image archive started');
    return {
      name: options.name,
      restUrl,
      pid: running.pid,
      connection: { dicomWebUrl: `${restUrl}/dicom-web`, ...credentials },
      async upload(dicom) {
        const r = await request(`${restUrl}/instances`, {
          method: 'POST',
          body: dicom,
          headers: { authorization: authHeader(credentials), 'content-type': 'application/dicom' },
        });
        const text = await r.body.text();
        if (r.statusCode !== 200) throw new Error(`Orthanc refused an instance: HTTP ${r.statusCode} ${text.slice(0, 200)}`);
      },
      async stop() {
        process.off('exit', killOnExit);
        if (running.exitCode === null && running.signalCode === null) {
          const exited = new Promise((r) => running.once('exit', r));
          running.kill('SIGCONT'); // a test may have paused it
          running.kill('SIGTERM');
          const timer = setTimeout(() => running.kill('SIGKILL'), 5000);
          await exited;
          clearTimeout(timer);
        }
        await rm(dir, { recursive: true, force: true });
      },
    };
  }
  throw new Error('Orthanc could not bind a port');
}
