import { createHash } from 'node:crypto';
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { tooManyRequests } from '../fhir/outcome.ts';

// Rate limits on the doors an attacker knocks on (logins, token endpoints, consent changes,
// operator actions), per client certificate, else per session cookie, else per address.
// A part names its doors (PartDefinition.rateLimits); the kit attaches the limits to those
// routes with @fastify/rate-limit and answers the excess with 429, Retry-After and an
// OperationOutcome. Everything else is not limited here (the node's fan-out has its own bound).

export interface RateLimitedDoor {
  method: string;
  /** The route as registered, with its prefix (e.g. /oauth/token, /citizen/consent/:id). */
  url: string;
  /** Requests per window per caller. */
  max: number;
  /** Default one minute. */
  windowMs?: number;
}

/** Session cookies the portals set; a caller with one is counted by it. */
const SESSION_COOKIES = /(?:^|;\s*)(ldn_[a-z]+)=([^;]{16,100})/;

/** Who a request counts against: its certificate, else its session, else its address. */
export function rateLimitKey(request: FastifyRequest): string {
  if (request.peer) return `cert:${request.peer.thumbprint}`;
  const cookie = SESSION_COOKIES.exec(request.headers.cookie ?? '');
  // Hashed: the key lives in memory, but a session id is a credential all the same.
  if (cookie) return `session:${createHash('sha256').update(cookie[2]).digest('base64url')}`;
  return `ip:${request.ip}`;
}

/**
 * Attaches the doors' limits. Call before the part registers its routes. `scale` multiplies
 * every limit (setting LDN_SETTING_RATE_LIMIT_SCALE; load tests raise it, 0 is not allowed).
 */
export async function registerRateLimits(app: FastifyInstance, doors: readonly RateLimitedDoor[], scale = 1): Promise<void> {
  if (doors.length === 0) return;
  const byRoute = new Map(doors.map((d) => [`${d.method.toUpperCase()} ${d.url}`, d]));
  // Runs before the plugin's own onRoute hook (registered below), which reads config.rateLimit.
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    const door = methods.map((m) => byRoute.get(`${m.toUpperCase()} ${route.url}`)).find(Boolean);
    if (!door) return;
    route.config = {
      ...(route.config as object),
      rateLimit: { max: Math.max(1, Math.round(door.max * scale)), timeWindow: door.windowMs ?? 60_000 },
    } as typeof route.config;
  });
  await app.register(rateLimit, {
    global: false,
    // After authentication, so the verified certificate is known.
    hook: 'preHandler',
    keyGenerator: rateLimitKey,
    errorResponseBuilder: (_request, context) =>
      tooManyRequests(`too many requests: at most ${context.max} per window from one caller; try again in ${context.after}`, Math.max(1, Math.ceil(context.ttl / 1000))),
  });
}

/**
 * Requests per minute per caller at each kind of door. Generous for a person or a system doing
 * its work (tokens are cached for minutes), far below what guessing or flooding needs. Load
 * tests raise them all with LDN_SETTING_RATE_LIMIT_SCALE.
 */
export const DOOR_LIMITS = {
  /** A login form (per browser session or address: the browser has no network certificate). */
  login: 60,
  /** A token endpoint (per client certificate). */
  token: 1200,
  /** A consent change (per certificate at the registry, per citizen session at the portal). */
  consentChange: 60,
  /** An operator action (per certificate at the trust part, per operator session at the portal). */
  operator: 120,
} as const;

/** Doors of one kind: each `METHOD /route` with the kind's limit. */
export function doors(kind: keyof typeof DOOR_LIMITS, routes: readonly string[]): RateLimitedDoor[] {
  return routes.map((r) => {
    const [method, url] = r.split(' ');
    return { method, url, max: DOOR_LIMITS[kind] };
  });
}
