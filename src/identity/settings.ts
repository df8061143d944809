import type { ClientMetadata } from 'oidc-provider';

// Part settings shared by both providers (LDN_SETTING_<NAME> or "settings" in the config file).

export interface ProviderOptions {
  /** Registered OIDC clients; default from settings.clients (JSON array of client metadata). */
  clients?: ClientMetadata[];
  /** Ask a password instead of offering the cast; default settings.require_password === 'true'. */
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

export function requirePasswordFrom(options: ProviderOptions, settings: Record<string, string | undefined>): boolean {
  return options.requirePassword ?? settings.require_password === 'true';
}

export function positiveInt(value: string | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n <= 0) throw new Error(`setting "${name}" must be a positive integer, got "${value}"`);
  return n;
}
