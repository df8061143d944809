import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';

// A part as its own OS process through the same code as production (`ldn serve <part>`), watched
// as a supervisor (systemd, Kubernetes) would: a process that dies is started again and the
// restart is logged. The part's keys and data are in its store, so a restart keeps them.
// The sandbox's second country, which is no part of the network, runs the same way under its
// own sandbox-only command (`ldn sandbox second-country`).

const STDERR_TAIL_CHARS = 2000;
const LDN_BIN = fileURLToPath(new URL('../../bin/ldn.js', import.meta.url));

export interface SupervisedPart {
  name: string;
  /** Current process id (changes at each restart). */
  readonly pid: number | undefined;
  /** How many times the process was started again after it died. */
  readonly restarts: number;
  /** Stops the process for good (SIGTERM, SIGKILL after 15 s); it is not started again. */
  stop(): Promise<void>;
}

export function supervisePart(options: {
  part: string;
  /** The `ldn` command line instead of `serve <part>` (the sandbox's second country). */
  args?: string[];
  /** Environment of `ldn serve` (LDN_TLS_*, LDN_PORT, LDN_NETWORK, DATABASE_URL, LDN_SETTING_*…). */
  env: Record<string, string>;
  log: Logger;
  /** Delay before a restart (default 500 ms). */
  restartDelayMs?: number;
  /** Where the child's output goes (default: inherited). */
  output?: 'inherit' | 'ignore';
  /** Name in logs and LDN_INSTANCE when several processes run the same part (e.g. node-zuid). */
  label?: string;
  /**
   * Run the child in its own process group, so a terminal's Ctrl-C reaches only the supervisor,
   * which then stops its children in order (otherwise each child gets the signal too, exits, and
   * would be started again while the supervisor is stopping).
   */
  ownProcessGroup?: boolean;
  /** Called with the new pid at every (re)start (the sandbox rewrites its manifest). */
  onStart?: (pid: number | undefined) => void;
}): SupervisedPart {
  let child: ChildProcess | undefined;
  let stopping = false;
  let restarts = 0;
  const start = () => {
    const c = spawn(process.execPath, [LDN_BIN, ...(options.args ?? ['serve', options.part])], {
      env: { ...process.env, LDN_INSTANCE: `${options.label ?? options.part}-${restarts}`, ...options.env },
      // With output ignored, the end of stderr is still kept: a part that keeps dying says why in the restart line.
      stdio: ['ignore', options.output ?? 'inherit', options.output === 'ignore' ? 'pipe' : 'inherit'],
      detached: options.ownProcessGroup === true,
    });
    child = c;
    let stderrTail = '';
    c.stderr?.on('data', (chunk: Buffer) => {
      stderrTail = (stderrTail + chunk.toString('utf8')).slice(-STDERR_TAIL_CHARS);
    });
    const name = options.label ?? options.part;
    options.log.info({ event: 'supervisor.started', part: name, pid: c.pid }, `${name} started (pid ${c.pid})`);
    options.onStart?.(c.pid);
    c.on('exit', (code, signal) => {
      if (stopping) return;
      restarts += 1;
      options.log.warn(
        { event: 'supervisor.restart', part: name, pid: c.pid, code, signal, restarts, ...(stderrTail ? { stderrTail } : {}) },
        `${name} (pid ${c.pid}) exited (${signal ?? code}); starting it again`,
      );
      setTimeout(() => {
        if (!stopping) start();
      }, options.restartDelayMs ?? 500).unref();
    });
  };
  start();
  return {
    name: options.part,
    get pid() {
      return child?.pid;
    },
    get restarts() {
      return restarts;
    },
    async stop() {
      stopping = true;
      const c = child;
      if (!c || c.exitCode !== null || c.signalCode !== null) return;
      const exited = new Promise((resolve) => c.once('exit', resolve));
      c.kill('SIGTERM');
      const force = setTimeout(() => c.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(force);
    },
  };
}
