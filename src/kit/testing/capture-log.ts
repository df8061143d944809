import { createLogger, type Logger } from '../log.ts';

/** A real kit logger whose JSON lines are kept in memory, for tests that assert what is logged. */
export function captureLog(name = 'test', level = 'info'): { log: Logger; lines: Array<Record<string, unknown>>; raw: string[] } {
  const lines: Array<Record<string, unknown>> = [];
  const raw: string[] = [];
  const log = createLogger(name, {
    level,
    destination: {
      write(line: string) {
        raw.push(line);
        lines.push(JSON.parse(line) as Record<string, unknown>);
      },
    },
  });
  return { log, lines, raw };
}
