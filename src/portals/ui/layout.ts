import { type Html, href, html } from './html.ts';
import { type Lang, type Translate, translator } from './i18n.ts';

// The page frame every portal page shares: landmarks (header, nav, main, footer), a skip link,
// the language toggle, who is logged in with a logout button, and the local stylesheet/script.

export interface NavItem {
  href: string;
  label: string;
  current?: boolean;
}

export interface PageInput {
  lang: Lang;
  /** Portal name shown in the header (already translated). */
  portal: string;
  /** Link target of the portal name. */
  home: string;
  /** Document title (already translated); the portal name is appended. */
  title: string;
  /** Where assets live: `${assetBase}/portal.css`. */
  assetBase: string;
  /** Current path (without query) for the language toggle. */
  path: string;
  /** Query parameters to keep when switching language. */
  query?: Record<string, string | undefined>;
  nav?: NavItem[];
  user?: { name: string; logoutAction: string; csrf: string };
  main: Html;
}

export function languageToggle(lang: Lang, path: string, query: Record<string, string | undefined> = {}): Html {
  const other: Lang = lang === 'nl' ? 'en' : 'nl';
  const t = translator(lang);
  return html`<a class="lang-toggle" href="${href(path, { ...query, lang: other })}" hreflang="${other}" lang="${other}" aria-label="${t('lang.switchLabel')}">${t('lang.switch')}</a>`;
}

export function page(input: PageInput): string {
  const t: Translate = translator(input.lang);
  const nav = input.nav?.length
    ? html`<nav class="main-nav" aria-label="${t('common.mainNav')}"><ul>${input.nav.map(
        (n) => html`<li><a href="${n.href}"${n.current ? html` aria-current="page"` : ''}>${n.label}</a></li>`,
      )}</ul></nav>`
    : '';
  const user = input.user
    ? html`<span class="who">${t('common.loggedInAs', { name: input.user.name })}</span>
      <form method="post" action="${input.user.logoutAction}"><input type="hidden" name="csrf" value="${input.user.csrf}"><button type="submit">${t('common.logout')}</button></form>`
    : '';
  return `<!doctype html>${html`<html lang="${input.lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>${input.title} – ${input.portal}</title>
<link rel="stylesheet" href="${input.assetBase}/portal.css">
<script src="${input.assetBase}/portal.js" defer></script>
</head>
<body>
<a class="skip-link" href="#main">${t('common.skip')}</a>
<header class="site-header"><div class="bar">
<p class="site-title"><a href="${input.home}">${input.portal}</a></p>
<div class="header-tools">${user}${languageToggle(input.lang, input.path, input.query)}</div>
</div></header>
${nav}
<main id="main" tabindex="-1">
${input.main}
</main>
<footer class="site-footer"><p>${t('common.footer')}</p></footer>
</body>
</html>`}`;
}

/** A banner with a heading and an optional list; role=alert for errors so screen readers hear it. */
export function banner(kind: 'error' | 'warn' | 'ok', title: string, items: Array<string | Html> = [], body?: string): Html {
  return html`<section class="banner banner-${kind}" ${kind === 'error' ? html`role="alert"` : html`role="status"`}>
<h2>${title}</h2>${body ? html`<p>${body}</p>` : ''}${items.length ? html`<ul>${items.map((i) => html`<li>${i}</li>`)}</ul>` : ''}
</section>`;
}
