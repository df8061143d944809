// Cookie header parsing and Set-Cookie serialisation for the portals' own cookies. The values
// the portals set are base64url tokens and language codes; anything else in a Cookie header is
// read defensively (never throws) and ignored by the callers.

const NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const VALUE = /^[!#$%&'()*+\-./0-9:<=>?@A-Z[\]^_`a-z{|}~]*$/;

/** Parses a Cookie request header; the first occurrence of a name wins (RFC 6265 §5.4 order). */
export function readCookies(header: string | undefined): Record<string, string> {
  const out: Record<string, string> = Object.create(null);
  if (!header || header.length > 8192) return out;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    const name = part.slice(0, eq).trim();
    let value = part.slice(eq + 1).trim();
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    if (!NAME.test(name) || !VALUE.test(value) || name in out) continue;
    out[name] = value;
  }
  return out;
}

export interface CookieOptions {
  path: string;
  maxAgeSeconds?: number;
  /** Secure is on unless explicitly off (plain-HTTP tests). */
  secure?: boolean;
  httpOnly?: boolean;
}

export function cookieHeader(name: string, value: string, options: CookieOptions): string {
  if (!NAME.test(name)) throw new TypeError(`invalid cookie name ${name}`);
  if (!VALUE.test(value)) throw new TypeError('invalid cookie value');
  if (!/^\/[\x21-\x3a\x3c-\x7e]*$/.test(options.path)) throw new TypeError('invalid cookie path');
  const parts = [`${name}=${value}`, `Path=${options.path}`];
  if (options.maxAgeSeconds !== undefined) parts.push(`Max-Age=${Math.max(0, Math.floor(options.maxAgeSeconds))}`);
  if (options.httpOnly ?? true) parts.push('HttpOnly');
  if (options.secure ?? true) parts.push('Secure');
  parts.push('SameSite=Lax');
  return parts.join('; ');
}

/** Adds a Set-Cookie header without dropping ones set earlier in the request. */
export function appendCookie(reply: { getHeader(name: string): unknown; header(name: string, value: unknown): unknown } | undefined, value: string): void {
  if (!reply) return;
  const prev = reply.getHeader('set-cookie');
  const list = prev === undefined ? [] : Array.isArray(prev) ? prev : [String(prev)];
  reply.header('set-cookie', [...list, value]);
}
