import { createService } from '../kit/http/service.ts';
import { createLogger } from '../kit/log.ts';
import { belgianContactPoint, NO_DUTCH_NETWORK } from './second-country.ts';

// `ldn sandbox second-country <config>`: the sandbox's second country (Belgium's contact point) as
// its own process under the sandbox's supervisor (`ldn sandbox --processes`). Belgium is no part of
// the Dutch network, so it has no `ldn serve` entry, no Dutch certificate and no Dutch peer guard;
// it starts from the same configuration file the in-process sandbox reads, keeps its audit trail
// and its patient key in its own store (one schema on DATABASE_URL, or LDN_DATA_DIR) with the key
// sealed under the sandbox's KEK file, so a restarted process keeps them.

export async function serveSecondCountry(configFile: string): Promise<void> {
  const env = process.env;
  const log = createLogger('second-country').child({ part: 'second-country-be' });
  const { part, tls } = belgianContactPoint(configFile);
  if (!env.DATABASE_URL && !env.LDN_DATA_DIR) throw new Error('the second country keeps its audit trail and key: DATABASE_URL or LDN_DATA_DIR is required');
  const svc = await createService(part, {
    tls,
    network: NO_DUTCH_NETWORK,
    host: env.LDN_HOST ?? '127.0.0.1',
    port: Number(env.LDN_PORT ?? 0),
    databaseUrl: env.DATABASE_URL,
    dataDir: env.DATABASE_URL ? undefined : env.LDN_DATA_DIR,
    settings: { key_encryption_key_file: env.LDN_SETTING_KEY_ENCRYPTION_KEY_FILE },
    log,
  });
  log.info({ event: 'service.listening', url: svc.url }, 'the sandbox\'s second country (Belgium) is listening');
  let stopping = false;
  const shutdown = async () => {
    if (stopping) return;
    stopping = true;
    setTimeout(() => process.exit(1), 20_000).unref();
    await svc.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown());
  process.on('SIGTERM', () => void shutdown());
}
