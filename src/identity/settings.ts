import type { ClientMetadata } from 'oidc-provider';

// Part settings shared by both providers (LDN_SETTING_<NAME> or "settings" in the config file).

export interface ProviderOptions {
  /** Registered OIDC clients; default from settings.clients (JSON array of client metadata). */
  clients?: ClientMetadata[];
  /** Ask a password instead of offering a pick list; default true unless settings.require_password is 'false'. */
  requirePassword?: boolean;
  /** Issuer identifier; default settings.issuer, else the part's base URL. */
  issuer?: string;
}

export function clientsFrom(options: ProviderOptions, settings: Record<string, string | undefined>): ClientMetadata[] {
  if (options.clients) return options.clients;
  if (!settings.clients) return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(settings.clients);
  } catch {
    throw new Error('setting "clients" must be a JSON array of OIDC client metadata');
  }
  if (!Array.isArray(parsed) || !parsed.every((c) => c && typeof c.client_id === 'string' && Array.isArray(c.redirect_uris))) {
    throw new Error('setting "clients" must be a JSON array of objects with client_id and redirect_uris');
  }
  return parsed as ClientMetadata[];
}

/** Password-less login (pick from a list) only when asked for: the sandbox passes it in code. */
export function requirePasswordFrom(options: ProviderOptions, settings: Record<string, string | undefined>): boolean {
  if (options.requirePassword !== undefined) return options.requirePassword;
  const value = settings.require_password ?? 'true';
  if (value !== 'true' && value !== 'false') throw new Error(`setting "require_password" must be true or false, got "${value}"`);
  return value === 'true';
}

/**
 * The people who can log in: the directory passed in code, or the sandbox cast when the
 * setting "directory" is "cast" (a demonstration). There is no default: a provider that
 * silently let anyone log in as a cast member would be worse than one that does not start.
 */
export function directoryFrom<D>(given: D | undefined, settings: Record<string, string | undefined>, part: string): D {
  if (given) return given;
  // The cast's directory is the composer's to give (src/sandbox/people.ts); this part knows no people.
  const got = settings.directory === undefined ? '' : ` (got "${settings.directory}")`;
  throw new Error(
    `${part}: no directory of people who may log in${got}; pass one in code, or set LDN_SETTING_DIRECTORY=cast to use the sandbox cast (demonstration only)`,
  );
}

export function positiveInt(value: string | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n <= 0) throw new Error(`setting "${name}" must be a positive integer, got "${value}"`);
  return n;
}
