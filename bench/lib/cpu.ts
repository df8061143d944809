import { readdirSync, readFileSync } from 'node:fs';

// CPU time spent in a measured phase, per process group: this process (all its threads) and the
// local PostgreSQL server's processes. On a shared machine the throughput moves with the other
// tenants' load; CPU per operation moves much less, so it shows where a change helps.

const TICK_MS = 10; // USER_HZ is 100 on Linux

function postgresTicks(): Map<number, number> {
  const ticks = new Map<number, number>();
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((d) => /^\d+$/.test(d));
  } catch {
    return ticks; // not Linux: the PostgreSQL share stays unknown
  }
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      if (stat.slice(stat.indexOf('(') + 1, close) !== 'postgres') continue;
      const fields = stat.slice(close + 2).split(' ');
      ticks.set(Number(pid), Number(fields[11]) + Number(fields[12])); // utime, stime
    } catch {
      // the process ended between listing and reading
    }
  }
  return ticks;
}

export interface CpuSnapshot {
  self: NodeJS.CpuUsage;
  postgres: Map<number, number>;
}

export function cpuSnapshot(): CpuSnapshot {
  return { self: process.cpuUsage(), postgres: postgresTicks() };
}

/** Milliseconds of CPU since `from`: this process, and PostgreSQL processes alive at both ends (a local server only). */
export function cpuSince(from: CpuSnapshot): { selfMs: number; postgresMs: number } {
  const self = process.cpuUsage(from.self);
  let ticks = 0;
  for (const [pid, t] of postgresTicks()) {
    const before = from.postgres.get(pid);
    if (before !== undefined) ticks += t - before;
  }
  return { selfMs: (self.user + self.system) / 1000, postgresMs: ticks * TICK_MS };
}
