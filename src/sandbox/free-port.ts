import { closeSync, mkdirSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// A port chosen now and bound later by another process (a part under the supervisor, HAProxy,
// Orthanc) must still be free when that process binds it, also when it is started again after a
// crash. "Listen on port 0, close, reuse the number" is not enough: the number comes from the
// kernel's ephemeral range, which every outgoing connection on the machine draws its local port
// from, so a database or HTTP connection can hold it by then and the part crash-loops on
// EADDRINUSE (seen in CI: a node restarted 19 times while two suites ran side by side). So ports
// come from below the ephemeral range, are checked by binding, and are reserved machine-wide by a
// lock file naming this process: another sandbox choosing ports at the same moment skips them, and
// a reservation whose process is gone is taken over.

const RESERVATIONS = join(tmpdir(), 'ldn-port-reservations');
const LOWEST = 10_000;
const TRIES = 200;

/** Where outgoing connections take their local ports from (Linux); below it only listeners bind. */
function ephemeralStart(): number {
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    if (Number.isInteger(low) && low > LOWEST + 1000) return low;
  } catch {
    // not Linux: fall through to the IANA dynamic range's start
  }
  return 49_152;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Takes the machine-wide reservation of `port` for this process; false when a live process holds it. */
export function reservePort(port: number, dir = RESERVATIONS): boolean {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, String(port));
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = Number(readFileSync(file, 'utf8'));
      if (Number.isInteger(holder) && holder > 0 && alive(holder)) return false;
      try {
        unlinkSync(file); // the holder is gone: its reservation is stale
      } catch {
        // another process took it over first; the next attempt tells
      }
    }
  }
  return false;
}

function bindable(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** A port on `host` that nothing listens on, outside the ephemeral range, reserved for this process. */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  const top = ephemeralStart();
  for (let i = 0; i < TRIES; i++) {
    const port = LOWEST + Math.floor(Math.random() * (top - LOWEST));
    if (!(await bindable(port, host))) continue;
    if (reservePort(port)) return port;
  }
  throw new Error(`no free port between ${LOWEST} and ${top} on ${host} after ${TRIES} tries`);
}
