import { createLogger } from '../kit/log.ts';
import { serveEhrSim } from '../node/ehr-sim/serve.ts';
import { vetSettings } from './part-settings-registry.ts';

// `ldn serve ehr-sim`: no certificates (plain HTTP on loopback, like a vendor EHR behind its node),
// so it reads a smaller environment than the network's parts: LDN_HOST (default 127.0.0.1),
// LDN_PORT (default 8080), DATABASE_URL or LDN_DATA_DIR, LDN_SETTING_<NAME>.

export async function runEhrSim(env: Record<string, string | undefined> = process.env): Promise<void> {
  const settings: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (k.startsWith('LDN_SETTING_') && v !== undefined) settings[k.slice(12).toLowerCase()] = v;
  const vetted = vetSettings('ehr-sim', settings);
  for (const l of vetted.lines) process.stderr.write(`${l}\n`);
  const port = Number(env.LDN_PORT ?? 8080);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    process.stderr.write(`ldn serve ehr-sim: LDN_PORT must be a port number, got "${env.LDN_PORT}"\n`);
    process.exit(2);
  }
  if (vetted.refuse) process.exit(2);
  const log = createLogger('ehr-sim');
  let sim: Awaited<ReturnType<typeof serveEhrSim>>;
  try {
    sim = await serveEhrSim({ host: env.LDN_HOST ?? '127.0.0.1', port, databaseUrl: env.DATABASE_URL, dataDir: env.LDN_DATA_DIR, settings, log });
  } catch (err) {
    process.stderr.write(`ldn serve ehr-sim: ${(err as Error).message}\n`);
    process.exit(2);
  }
  process.stdout.write(`${sim.url}\n`);
  const stop = () => void sim.close().finally(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
