import pino, { type DestinationStream, type Logger } from 'pino';

// JSON logs everywhere; readable (pino-pretty) when a person runs the sandbox in a terminal.
// A BSN must never reach a log: request URLs and error records are scrubbed of every 9-digit
// run, and the paths below are redacted wherever they appear in a log object.

const REDACT = ['bsn', '*.bsn', 'patient_bsn', '*.patient_bsn', 'req.headers.authorization', 'headers.authorization'];

export function scrubDigits(text: string): string {
  return text.replace(/(?<!\d)\d{9}(?!\d)/g, '*********');
}

// Errors carry whatever their thrower put in them: a pg `detail` like `Key (bsn)=(…)`, a
// message quoting a query, a stack. Every string in the serialised record is scrubbed, nested
// ones (`cause`, aggregated errors) included.
function scrubStrings(value: unknown, depth: number): unknown {
  if (typeof value === 'string') return scrubDigits(value);
  if (depth <= 0 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => scrubStrings(v, depth - 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = scrubStrings(v, depth - 1);
  return out;
}

/** pino's error serializer, with every 9-digit run in the result masked. */
export function serializeError(err: unknown): unknown {
  if (!(err instanceof Error)) return scrubStrings(err, 4);
  return scrubStrings(pino.stdSerializers.err(err), 4);
}

// `log.error(err)` makes the error's message the line's `msg`, and a message may interpolate
// a value: the message arguments are scrubbed too.
function scrubbedCall(this: Logger, args: unknown[], method: (...a: unknown[]) => void): void {
  const [first, ...rest] = args;
  if (first instanceof Error && typeof rest[0] !== 'string') {
    method.apply(this, [{ err: first }, scrubDigits(first.message), ...rest]);
    return;
  }
  method.apply(this, args.map((a) => (typeof a === 'string' ? scrubDigits(a) : a)));
}

export interface LoggerOptions {
  level?: string;
  pretty?: boolean;
  /** Where JSON lines go (default stdout); tests pass a collecting stream. */
  destination?: DestinationStream;
}

export function createLogger(name: string, options: LoggerOptions = {}): Logger {
  const level = options.level ?? process.env.LDN_LOG_LEVEL ?? 'info';
  const pretty = !options.destination && (options.pretty ?? process.env.LDN_LOG_PRETTY === '1');
  const config = {
    name,
    level,
    redact: { paths: REDACT, censor: '[redacted]' },
    hooks: { logMethod: scrubbedCall },
    serializers: {
      req: (req: { method?: string; url?: string }) => ({ method: req.method, url: scrubDigits(req.url ?? '') }),
      err: serializeError,
    },
    ...(pretty
      ? { transport: { target: 'pino-pretty', options: { colorize: true, translateTime: 'HH:MM:ss', ignore: 'pid,hostname' } } }
      : {}),
  };
  return options.destination ? pino(config, options.destination) : pino(config);
}

export type { Logger };
