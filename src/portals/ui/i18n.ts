import { appendCookie, cookieHeader, readCookies } from './cookies.ts';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { EN } from './i18n-en.ts';
import { NL } from './i18n-nl.ts';

// Dutch is the default; English is one click away (?lang=en, remembered in a cookie).

export type Lang = 'nl' | 'en';
export type MessageKey = keyof typeof NL;
export type Translate = (key: MessageKey, vars?: Record<string, string | number>) => string;

const DICTIONARIES: Record<Lang, Record<MessageKey, string>> = { nl: NL, en: EN };
export const LANG_COOKIE = 'ldn_lang';

export function translator(lang: Lang): Translate {
  const dict = DICTIONARIES[lang];
  return (key, vars) => {
    const text = dict[key] ?? NL[key] ?? key;
    return vars ? text.replace(/\{(\w+)\}/g, (m, name: string) => (name in vars ? String(vars[name]) : m)) : text;
  };
}

const isLang = (v: unknown): v is Lang => v === 'nl' || v === 'en';

/** The language of a request: ?lang= first (and remembered), then the cookie, else Dutch. */
export function languageOf(request: FastifyRequest, reply?: FastifyReply, cookiePath = '/'): Lang {
  const asked = (request.query as Record<string, unknown> | undefined)?.lang;
  if (isLang(asked)) {
    appendCookie(reply, cookieHeader(LANG_COOKIE, asked, { path: cookiePath, maxAgeSeconds: 31_536_000, httpOnly: false, secure: false }));
    return asked;
  }
  const cookies = readCookies(request.headers.cookie ?? '');
  return isLang(cookies[LANG_COOKIE]) ? cookies[LANG_COOKIE] : 'nl';
}

/** Dates as people read them, in the page's language (Europe/Amsterdam). */
export function formatDate(value: string | undefined, lang: Lang, withTime = false): string {
  if (!value) return '';
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) return value;
  const dateOnly = /^\d{4}(-\d{2}){0,2}$/.test(value);
  return new Intl.DateTimeFormat(lang === 'nl' ? 'nl-NL' : 'en-GB', {
    dateStyle: 'medium',
    ...(withTime && !dateOnly ? { timeStyle: 'short' } : {}),
    timeZone: dateOnly ? 'UTC' : 'Europe/Amsterdam',
  }).format(d);
}

/** A result's interpretation code (H, L, N, HH, LL, A, AA) spelled out; undefined for codes without wording. */
export function interpretationWording(t: Translate): (code: string) => string | undefined {
  return (code) => {
    const key = `interp.${code}`;
    const text = t(key as MessageKey);
    return text === key ? undefined : text;
  };
}

/** A FHIR resource type as readers call it; undefined for types without wording. */
export function kindWording(t: Translate): (resourceType: string) => string | undefined {
  return (type) => {
    const key = `kind.${type}`;
    const text = t(key as MessageKey);
    return text === key ? undefined : text;
  };
}

/** A FHIR status code in the reader's language, or undefined when there is no wording for it. */
export function statusWording(t: Translate): (code: string) => string | undefined {
  return (code) => {
    const key = `status.${code}`;
    const text = t(key as MessageKey);
    return text === key ? undefined : text;
  };
}
