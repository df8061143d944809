import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { ConfigError, loadServeConfig } from '../kit/config.ts';
import { PartClient } from '../kit/http/client.ts';
import { createService } from '../kit/http/service.ts';
import { createPeerGuard } from '../trust/certificates/peer-guard.ts';
import { createLogger } from '../kit/log.ts';
import type { NetworkView } from '../kit/part.ts';
import { CENTRAL_PARTS, partNames } from '../sandbox/registry.ts';
import { serveSettingsHelp, vetSettings } from './part-settings-registry.ts';

export function serveCommand(): Command {
  return new Command('serve')
    .description('run one part as its own process (production: PostgreSQL via DATABASE_URL, certificates from files)')
    .argument('<part>', 'the part to run')
    .option('--config <file>', 'JSON configuration file (environment variables override it)')
    .addHelpText(
      'after',
      `
Environment:
  LDN_TLS_CERT, LDN_TLS_KEY, LDN_TLS_CA   PEM files of this part's network certificate, key and the network CA (required)
  DATABASE_URL                            postgres://… (omit for embedded PGlite; LDN_DATA_DIR keeps it on disk)
  LDN_HOST, LDN_PORT, LDN_PUBLIC_URL      where to listen and the URL others use
  LDN_NETWORK                             JSON object: other parts' base URLs, e.g. {"trust":"https://trust.example"};
                                          "trust" is required for every part but trust itself
  LDN_SETTING_<NAME>                      part-specific settings
  LDN_LOG_LEVEL                           trace|debug|info|warn|error (default info)`,
    )
    .addHelpText('after', () => serveSettingsHelp(process.argv))
    .action(async (name: string, opts: { config?: string }) => {
      if (name === 'ehr-sim') return (await import('./serve-ehr-sim.ts')).runEhrSim();
      const entry = CENTRAL_PARTS.find((p) => p.name === name);
      if (!entry) {
        process.stderr.write(`unknown part "${name}"; available: ${[...partNames(), 'ehr-sim'].join(', ')}\n`);
        process.exit(2);
      }
      let config: ReturnType<typeof loadServeConfig>;
      try {
        config = loadServeConfig(name, { configFile: opts.config });
      } catch (err) {
        if (err instanceof ConfigError) {
          process.stderr.write(`${err.message}\n\nSee: ldn serve --help\n`);
          process.exit(2);
        }
        throw err;
      }
      // Every part but the trust framework refuses revoked or suspended participants from the
      // trust framework's status list; without its URL a part would admit any certificate the
      // CA ever signed, so it does not start (deny by default).
      if (name !== 'trust' && !config.network.trust) {
        process.stderr.write(
          `ldn serve ${name}: the trust framework's URL is required (network.trust in the config file, or "trust" in LDN_NETWORK); ` +
            'without it revoked or suspended participants would be let in\n\nSee: ldn serve --help\n',
        );
        process.exit(2);
      }
      const vetted = vetSettings(name, config.settings);
      for (const l of vetted.lines) process.stderr.write(`${l}\n`);
      if (vetted.refuse) process.exit(2);
      const log = createLogger(name);
      const network: NetworkView = {
        url: (p) => {
          const u = config.network[p];
          if (!u) throw new Error(`no URL configured for part "${p}" (set LDN_NETWORK)`);
          return u;
        },
        has: (p) => p in config.network,
      };
      const tls = {
        cert: readFileSync(config.tls.certFile, 'utf8'),
        key: readFileSync(config.tls.keyFile, 'utf8'),
        ca: readFileSync(config.tls.caFile, 'utf8'),
      };
      let part: Awaited<ReturnType<typeof entry.load>>;
      try {
        part = await entry.load(config.settings, tls.ca);
      } catch (err) {
        process.stderr.write(`ldn serve ${name}: ${(err as Error).message}\n`);
        process.exit(2);
      }
      const guardClient = name !== 'trust' ? new PartClient({ tls }) : undefined;
      let svc: Awaited<ReturnType<typeof createService>>;
      try {
        svc = await createService(part, {
          tls,
          peerGuard: guardClient ? createPeerGuard({ trustUrl: config.network.trust, client: guardClient, maxAgeSeconds: 30 }) : undefined,
          network,
          host: config.host,
          port: config.port,
          publicUrl: config.publicUrl,
          databaseUrl: config.databaseUrl,
          dataDir: config.dataDir,
          settings: config.settings,
          log,
        });
      } catch (err) {
        // A part that refuses its settings (for example identity without a directory) says why.
        process.stderr.write(`ldn serve ${name}: ${(err as Error).message}\n`);
        await guardClient?.close();
        process.exit(2);
      }
      log.info({ url: svc.url }, `${name} listening`);
      const shutdown = async () => {
        await svc.close();
        await guardClient?.close();
        process.exit(0);
      };
      process.on('SIGINT', () => void shutdown());
      process.on('SIGTERM', () => void shutdown());
    });
}
