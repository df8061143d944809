import { Command, InvalidArgumentError } from 'commander';
import { createLogger } from '../kit/log.ts';
import type { Manifest } from '../sandbox/manifest.ts';
import { preloadWorkflowStories } from '../sandbox/workflow-demo.ts';
import { startSandbox } from '../sandbox/sandbox.ts';
import { printSummary } from './summary.ts';

function portNumber(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65000) throw new InvalidArgumentError('must be a port number (0 = any free port)');
  return n;
}

const QUIETER_THAN_INFO = ['warn', 'error', 'fatal', 'silent'];

/**
 * The sandbox's log level and request logging. Request lines are logged at info, so --verbose
 * must also lower the level to info (it used to set request logging under a warn-level logger,
 * and nothing appeared); a more detailed LDN_LOG_LEVEL (debug, trace) is kept.
 */
export function sandboxLogging(verbose: boolean, envLevel: string | undefined): { level: string; logRequests: boolean } {
  if (!verbose) return { level: envLevel ?? 'warn', logRequests: process.env.LDN_LOG_REQUESTS === '1' };
  return { level: !envLevel || QUIETER_THAN_INFO.includes(envLevel) ? 'info' : envLevel, logRequests: true };
}

/**
 * The sandbox's second country (Belgium's contact point) as its own process, started by the
 * supervisor of `ldn sandbox --processes`; not a part of the Dutch network, so not `ldn serve`.
 */
function secondCountryCommand(): Command {
  return new Command('second-country')
    .description("the sandbox's second country (Belgium's contact point) as its own process; started by `ldn sandbox --processes`")
    .argument('<config>', 'its configuration file (written by the sandbox under <pki>/belgium/contact-point.json)')
    .action(async (config: string) => {
      try {
        await (await import('../sandbox/second-country-process.ts')).serveSecondCountry(config);
      } catch (err) {
        process.stderr.write(`ldn sandbox second-country: ${(err as Error).message}\n`);
        process.exit(2);
      }
    });
}

export function sandboxCommand(): Command {
  return new Command('sandbox')
    .addCommand(secondCountryCommand())
    .description('start the whole network on this machine: central services, participants, seeded data, portals')
    .option('--manifest <path>', 'where to write the sandbox manifest (JSON)', '.ldn/sandbox.json')
    .option('--data-dir <path>', 'keep every store and the generated keys under this directory (default: in memory)')
    .option('--database-url <url>', 'use PostgreSQL instead of the embedded PGlite (postgres://…)')
    .option('--port-base <port>', 'first port; parts take consecutive ports (0 = any free port)', portNumber, 9440)
    .option('--host <host>', 'interface to listen on', '127.0.0.1')
    .option('--verbose', 'log every request')
    .option('--processes', 'every central part and node as its own OS process (`ldn serve`), restarted when it dies; needs --database-url or --data-dir')
    .option('--no-handovers', 'do not send the two notified-pull stories\' handovers at start (eOverdracht, medicatieoverdracht)')
    .action(async (opts: { manifest: string; dataDir?: string; databaseUrl?: string; portBase: number; host: string; verbose?: boolean; processes?: boolean; handovers: boolean }) => {
      const logging = sandboxLogging(opts.verbose === true, process.env.LDN_LOG_LEVEL);
      if (logging.logRequests) process.env.LDN_LOG_REQUESTS = '1';
      const log = createLogger('sandbox', { pretty: process.stdout.isTTY, level: logging.level });
      const started = Date.now();
      process.stdout.write('Starting the LDN sandbox…\n');
      const sandboxOptions = {
        manifestPath: opts.manifest,
        dataDir: opts.dataDir,
        databaseUrl: opts.databaseUrl,
        portBase: opts.portBase,
        host: opts.host,
        log,
        progress: (step: string) => process.stdout.write(`  ${((Date.now() - started) / 1000).toFixed(1).padStart(5)} s  ${step}\n`),
      };
      let sandbox: { manifest: Manifest; manifestPath: string; stop(): Promise<void> };
      try {
        if (opts.processes) sandbox = await (await import('../sandbox/processes.ts')).startProcessSandbox(sandboxOptions);
        else {
          const inProcess = await startSandbox(sandboxOptions);
          sandbox = inProcess;
          if (opts.handovers) {
            // The notified-pull stories start with a handover waiting in the receivers' lists (README).
            const lines = await preloadWorkflowStories(inProcess).catch((err: Error) => [`!! the stories' handovers were not sent: ${err.message}`]);
            for (const line of lines) process.stdout.write(`  ${((Date.now() - started) / 1000).toFixed(1).padStart(5)} s  handover ${line}\n`);
          }
        }
      } catch (err) {
        process.stderr.write(`ldn sandbox: ${(err as Error).message}\n`);
        process.exit(2);
      }
      printSummary(sandbox, Date.now() - started);
      let stopping = false;
      const shutdown = async (signal: string) => {
        if (stopping) return;
        stopping = true;
        process.stdout.write(`\n${signal}: stopping the sandbox…\n`);
        const force = setTimeout(() => process.exit(1), opts.processes ? 30_000 : 10_000);
        force.unref();
        await sandbox.stop();
        process.stdout.write('Stopped.\n');
        process.exit(0);
      };
      process.on('SIGINT', () => void shutdown('SIGINT'));
      process.on('SIGTERM', () => void shutdown('SIGTERM'));
    });
}
