import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { freePort, reservePort } from './free-port.ts';

describe('free ports for processes started later', () => {
  it('gives distinct ports below the ephemeral range that a server can bind', async () => {
    const [low] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    const ports = [await freePort(), await freePort(), await freePort()];
    assert.equal(new Set(ports).size, 3);
    for (const port of ports) {
      assert.ok(port >= 10_000 && port < low, `${port} is below ${low}`);
      const server = createServer();
      await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, '127.0.0.1', resolve));
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('never hands out a port another live process reserved; takes over one whose process is gone', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ldn-ports-'));
    writeFileSync(join(dir, '20001'), String(process.ppid));
    assert.equal(reservePort(20001, dir), false);
    writeFileSync(join(dir, '20002'), '4194305'); // above Linux's pid_max: no such process
    assert.equal(reservePort(20002, dir), true);
    assert.equal(readFileSync(join(dir, '20002'), 'utf8'), String(process.pid));
    assert.equal(reservePort(20003, dir), true);
    assert.equal(reservePort(20003, dir), false, 'this process already holds it: not handed out twice');
  });
});
