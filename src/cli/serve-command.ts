import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { ConfigError, loadServeConfig, settingsView } from '../kit/config.ts';
import { PartClient } from '../kit/http/client.ts';
import { createService } from '../kit/http/service.ts';
import { createPeerGuard } from '../trust/certificates/peer-guard.ts';
import { createLogger } from '../kit/log.ts';
import { instanceName } from '../kit/http/operability.ts';
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
  LDN_SETTING_KEY_ENCRYPTION_KEY(_FILE)   32 bytes (hex/base64url) sealing the keys the part keeps in its store;
                                          required with DATABASE_URL or LDN_DATA_DIR (see README, Keys)
  LDN_INSTANCE                            this instance's name in logs and metrics (default host:pid)
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
      const log = createLogger(name).child({ part: name, instance: instanceName() });
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
      let composed: Awaited<ReturnType<typeof entry.start>>;
      try {
        composed = await entry.start({ tls, network, settings: settingsView(config.settings), log, caPem: tls.ca });
      } catch (err) {
        process.stderr.write(`ldn serve ${name}: ${(err as Error).message}\n`);
        process.exit(2);
      }
      const part = composed.part;
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
        // A part that refuses its settings (for example identity without a directory, or keys it
        // cannot open) says why.
        process.stderr.write(`ldn serve ${name}: ${(err as Error).message}\n`);
        await composed.stop().catch(() => {});
        await guardClient?.close();
        process.exit(2);
      }
      log.info({ event: 'service.listening', url: svc.url }, `${name} listening`);
      // Graceful: stop accepting, let requests in flight finish (bounded in the service), then exit.
      let stopping = false;
      const shutdown = async (signal: string) => {
        if (stopping) return;
        stopping = true;
        log.info({ event: 'service.stopping', signal }, `${signal}: stopping ${name}, finishing requests in flight`);
        const force = setTimeout(() => {
          log.error({ event: 'service.shutdown-forced' }, 'shutdown did not finish in time; exiting');
          process.exit(1);
        }, 20_000);
        force.unref();
        await svc.close();
        await composed.stop().catch(() => {});
        await guardClient?.close();
        process.exit(0);
      };
      process.on('SIGINT', () => void shutdown('SIGINT'));
      process.on('SIGTERM', () => void shutdown('SIGTERM'));
    });
}
