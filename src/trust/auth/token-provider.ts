import { createHash } from 'node:crypto';
import { PartClient, type RequestedAuthorizationDetail, type TokenProvider } from '../../kit/http/client.ts';
import type { TlsIdentity } from '../../kit/part.ts';
import { CLIENT_ASSERTION_TYPE, createClientAssertion, JWT_BEARER_GRANT } from './client-assertion.ts';

// The caller's side of the token dance, for PartClient: one token per (resource, scope, user),
// obtained with a fresh client assertion and kept until shortly before it expires. Concurrent
// callers wanting the same token share one request.

export interface TrustTokenProviderOptions {
  tls: TlsIdentity;
  /** URA this caller acts for. */
  ura: string;
  /** The trust framework's token endpoint, or a choice per resource (nodes run their own AS). */
  tokenEndpoint: string | ((resource: string) => string);
  /** mTLS client for the token requests (one without a token provider); created when omitted. */
  client?: PartClient;
  /** Renew this many seconds before expiry; default 30. */
  refreshMarginSeconds?: number;
}

export class TokenRequestError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    readonly description: string,
  ) {
    super(`token request refused (${status} ${error}): ${description}`);
  }
}

interface Cached {
  token: string;
  renewAt: number;
}

const MAX_ENTRIES = 10_000;

export class TrustTokenProvider implements TokenProvider {
  private readonly cache = new Map<string, Cached>();
  private readonly inflight = new Map<string, Promise<string>>();
  private readonly client: PartClient;
  private readonly ownClient: boolean;

  constructor(private readonly options: TrustTokenProviderOptions) {
    this.client = options.client ?? new PartClient({ tls: options.tls });
    this.ownClient = !options.client;
  }

  async token(resource: string, scope: string, options: { userAssertion?: string; authorizationDetails?: RequestedAuthorizationDetail[] } = {}): Promise<string> {
    const details = options.authorizationDetails?.length ? JSON.stringify(options.authorizationDetails) : '';
    const key = `${resource}\n${scope}\n${options.userAssertion ? createHash('sha256').update(options.userAssertion).digest('base64url') : ''}\n${details}`;
    const hit = this.cache.get(key);
    if (hit && hit.renewAt > Date.now()) return hit.token;
    const pending = this.inflight.get(key);
    if (pending) return pending;
    const request = this.request(resource, scope, options.userAssertion, details)
      .then(({ token, expiresIn }) => {
        const margin = this.options.refreshMarginSeconds ?? 30;
        if (this.cache.size >= MAX_ENTRIES) this.cache.clear();
        this.cache.set(key, { token, renewAt: Date.now() + Math.max(0, expiresIn - margin) * 1000 });
        return token;
      })
      .finally(() => this.inflight.delete(key));
    this.inflight.set(key, request);
    return request;
  }

  invalidate(resource: string, scope: string): void {
    const prefix = `${resource}\n${scope}\n`;
    for (const key of this.cache.keys()) if (key.startsWith(prefix)) this.cache.delete(key);
  }

  private async request(resource: string, scope: string, userAssertion?: string, authorizationDetails?: string): Promise<{ token: string; expiresIn: number }> {
    const endpoint = typeof this.options.tokenEndpoint === 'function' ? this.options.tokenEndpoint(resource) : this.options.tokenEndpoint;
    const form: Record<string, string> = {
      grant_type: userAssertion ? JWT_BEARER_GRANT : 'client_credentials',
      client_assertion_type: CLIENT_ASSERTION_TYPE,
      client_assertion: await createClientAssertion({ identity: this.options.tls, ura: this.options.ura, tokenEndpoint: endpoint }),
      scope,
      resource,
    };
    if (userAssertion) form.assertion = userAssertion;
    if (authorizationDetails) form.authorization_details = authorizationDetails;
    const r = await this.client.call<{ access_token?: string; expires_in?: number; error?: string; error_description?: string }>(endpoint, {
      method: 'POST',
      form,
    });
    if (r.status !== 200 || typeof r.body?.access_token !== 'string') {
      const body = typeof r.body === 'object' && r.body ? r.body : {};
      throw new TokenRequestError(r.status, body.error ?? 'unknown', body.error_description ?? r.text.slice(0, 200));
    }
    return { token: r.body.access_token, expiresIn: Number(r.body.expires_in ?? 60) };
  }

  async close(): Promise<void> {
    if (this.ownClient) await this.client.close();
  }
}
