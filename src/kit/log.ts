import pino, { type Logger } from 'pino';

// JSON logs everywhere; readable (pino-pretty) when a person runs the sandbox in a terminal.
// A BSN must never reach a log: request URLs are scrubbed of every 9-digit run, and the
// paths below are redacted wherever they appear in a log object.

const REDACT = ['bsn', '*.bsn', 'patient_bsn', '*.patient_bsn', 'req.headers.authorization', 'headers.authorization'];

export function scrubDigits(text: string): string {
  return text.replace(/(?<!\d)\d{9}(?!\d)/g, '*********');
}

export function createLogger(name: string, options: { level?: string; pretty?: boolean } = {}): Logger {
  const level = options.level ?? process.env.LDN_LOG_LEVEL ?? 'info';
  const pretty = options.pretty ?? process.env.LDN_LOG_PRETTY === '1';
  return pino({
    name,
    level,
    redact: { paths: REDACT, censor: '[redacted]' },
    serializers: {
      req: (req: { method?: string; url?: string }) => ({ method: req.method, url: scrubDigits(req.url ?? '') }),
      err: pino.stdSerializers.err,
    },
    ...(pretty
      ? { transport: { target: 'pino-pretty', options: { colorize: true, translateTime: 'HH:MM:ss', ignore: 'pid,hostname' } } }
      : {}),
  });
}

export type { Logger };
