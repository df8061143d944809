import type { ClientMetadata } from 'oidc-provider';
import type { ProviderSettingValues } from './serve-settings.ts';

// Part settings shared by both providers (declared in serve-settings.ts; LDN_SETTING_<NAME> or
// "settings" in the config file). Options passed in code come first.

export interface ProviderOptions {
  /** Registered OIDC clients; default from settings.clients (JSON array of client metadata). */
  clients?: ClientMetadata[];
  /** Ask a password instead of offering a pick list; default true unless settings.require_password is 'false'. */
  requirePassword?: boolean;
  /** Issuer identifier; default settings.issuer, else the part's base URL. */
  issuer?: string;
}

export function clientsFrom(options: ProviderOptions, settings: ProviderSettingValues): ClientMetadata[] {
  if (options.clients) return options.clients;
  const parsed = settings.clients;
  if (parsed === undefined) return [];
  if (!Array.isArray(parsed) || !parsed.every((c) => c && typeof c.client_id === 'string' && Array.isArray(c.redirect_uris))) {
    throw new Error('setting "clients" must be a JSON array of objects with client_id and redirect_uris');
  }
  return parsed as ClientMetadata[];
}

/** Password-less login (pick from a list) only when asked for: the sandbox passes it in code. */
export function requirePasswordFrom(options: ProviderOptions, settings: ProviderSettingValues): boolean {
  return options.requirePassword ?? settings.requirePassword;
}

/**
 * The people who can log in: the directory passed in code, or the sandbox cast when the
 * setting "directory" is "cast" (a demonstration). There is no default: a provider that
 * silently let anyone log in as a cast member would be worse than one that does not start.
 */
export function directoryFrom<D>(given: D | undefined, settings: ProviderSettingValues, part: string): D {
  if (given) return given;
  // The cast's directory is the composer's to give (src/sandbox/people.ts); this part knows no people.
  const got = settings.directory === undefined ? '' : ` (got "${settings.directory}")`;
  throw new Error(
    `${part}: no directory of people who may log in${got}; pass one in code, or set LDN_SETTING_DIRECTORY=cast to use the sandbox cast (demonstration only)`,
  );
}
