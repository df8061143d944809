import { existsSync, readFileSync } from 'node:fs';
import { KIT_ERRORS, LdnError } from './errors.ts';

// Configuration for `ldn serve`: a JSON file (--config) overlaid by environment variables.
// Every problem is collected and reported at once, naming the variable and what it should be.

export interface ServeConfig {
  part: string;
  host: string;
  port: number;
  publicUrl?: string;
  databaseUrl?: string;
  dataDir?: string;
  tls: { certFile: string; keyFile: string; caFile: string };
  /** Base URLs of the other parts, by manifest service name. */
  network: Record<string, string>;
  /** Part-specific settings (LDN_SETTING_<NAME> or "settings" in the file). */
  settings: Record<string, string>;
}

export class ConfigError extends LdnError {
  constructor(readonly problems: string[]) {
    super('ERR_KIT_CONFIG_INVALID', KIT_ERRORS.ERR_KIT_CONFIG_INVALID, `invalid configuration:\n  - ${problems.join('\n  - ')}`);
  }
}

type Env = Record<string, string | undefined>;

export function loadServeConfig(part: string, options: { configFile?: string; env?: Env } = {}): ServeConfig {
  const env = options.env ?? process.env;
  const problems: string[] = [];
  let file: Partial<ServeConfig> & { tls?: Partial<ServeConfig['tls']> } = {};
  if (options.configFile) {
    if (!existsSync(options.configFile)) problems.push(`config file not found: ${options.configFile}`);
    else {
      try {
        file = JSON.parse(readFileSync(options.configFile, 'utf8'));
      } catch (err) {
        problems.push(`config file ${options.configFile} is not valid JSON: ${(err as Error).message}`);
      }
    }
  }
  const portText = env.LDN_PORT ?? (file.port !== undefined ? String(file.port) : '8443');
  const port = Number(portText);
  if (!Number.isInteger(port) || port < 0 || port > 65535) problems.push(`LDN_PORT must be a port number, got "${portText}"`);

  const tls = {
    certFile: env.LDN_TLS_CERT ?? file.tls?.certFile ?? '',
    keyFile: env.LDN_TLS_KEY ?? file.tls?.keyFile ?? '',
    caFile: env.LDN_TLS_CA ?? file.tls?.caFile ?? '',
  };
  for (const [name, path] of [['LDN_TLS_CERT', tls.certFile], ['LDN_TLS_KEY', tls.keyFile], ['LDN_TLS_CA', tls.caFile]]) {
    if (!path) problems.push(`${name} is required (path to a PEM file)`);
    else if (!existsSync(path)) problems.push(`${name}: file not found: ${path}`);
  }

  let network: Record<string, string> = { ...(file.network ?? {}) };
  if (env.LDN_NETWORK) {
    try {
      network = { ...network, ...JSON.parse(env.LDN_NETWORK) };
    } catch {
      problems.push('LDN_NETWORK must be a JSON object of part name to base URL');
    }
  }
  for (const [name, url] of Object.entries(network)) {
    if (!/^https:\/\//.test(String(url))) problems.push(`network.${name} must be an https:// URL, got "${url}"`);
  }

  const databaseUrl = env.DATABASE_URL ?? file.databaseUrl;
  if (databaseUrl && !/^postgres(ql)?:\/\//.test(databaseUrl)) problems.push('DATABASE_URL must start with postgres://');

  const settings: Record<string, string> = { ...(file.settings ?? {}), ...settingsFromEnvironment(env) };
  if (problems.length) throw new ConfigError(problems);
  return {
    part,
    host: env.LDN_HOST ?? file.host ?? '0.0.0.0',
    port,
    publicUrl: env.LDN_PUBLIC_URL ?? file.publicUrl,
    databaseUrl,
    dataDir: env.LDN_DATA_DIR ?? file.dataDir,
    tls,
    network,
    settings,
  };
}

/** The LDN_SETTING_<NAME> variables of an environment, by lower-case name. */
export function settingsFromEnvironment(env: Record<string, string | undefined>): Record<string, string> {
  const settings: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (k.startsWith('LDN_SETTING_') && v !== undefined) settings[k.slice('LDN_SETTING_'.length).toLowerCase()] = v;
  return settings;
}

/**
 * Settings by name in any case: `LDN_SETTING_NVI_INDEX_KEY`, a config file's `nvi_index_key` and
 * a part's `settings.NVI_INDEX_KEY` are one setting (the environment's names arrive lower-cased).
 */
export function settingsView(raw: Record<string, string | undefined>): Record<string, string | undefined> {
  const lower: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(raw)) lower[k.toLowerCase()] = v;
  return new Proxy(lower, {
    get: (target, key) => (typeof key === 'string' ? target[key.toLowerCase()] : undefined),
    has: (target, key) => typeof key === 'string' && key.toLowerCase() in target,
  });
}
