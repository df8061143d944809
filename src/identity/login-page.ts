// The login pages of both providers: plain server-rendered HTML, Dutch first, English with
// ?lang=en (or ui_locales=en on the authorization request). No scripts, so the CSP is strict.

export type Lang = 'nl' | 'en';

export interface LoginChoice {
  value: string;
  label: string;
  detail: string;
  group: string;
}

export interface LoginPageInput {
  kind: 'professional' | 'citizen';
  lang: Lang;
  action: string;
  clientName: string;
  choices: LoginChoice[];
  requirePassword: boolean;
  error?: string;
}

const TEXT = {
  nl: {
    professional: { title: 'Inloggen als zorgverlener', intro: 'Log in met uw Dezi-identiteit om verder te gaan naar', account: 'Dezi-nummer' },
    citizen: { title: 'Inloggen met uw burger-ID', intro: 'Log in om verder te gaan naar', account: 'Burgerservicenummer (BSN)' },
    sandbox: 'Sandbox: kies een persoon uit de fictieve cast. Er wordt geen wachtwoord gevraagd.',
    password: 'Wachtwoord',
    login: 'Inloggen',
    cancel: 'Annuleren',
    other: 'English',
  },
  en: {
    professional: { title: 'Log in as a care professional', intro: 'Log in with your Dezi identity to continue to', account: 'Dezi number' },
    citizen: { title: 'Log in with your citizen ID', intro: 'Log in to continue to', account: 'Citizen service number (BSN)' },
    sandbox: 'Sandbox: pick a person from the fictional cast. No password is asked.',
    password: 'Password',
    login: 'Log in',
    cancel: 'Cancel',
    other: 'Nederlands',
  },
} as const;

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function pickLang(...candidates: (string | undefined)[]): Lang {
  for (const c of candidates) {
    if (!c) continue;
    const first = c.split(/[\s,]+/)[0]?.toLowerCase() ?? '';
    if (first.startsWith('en')) return 'en';
    if (first.startsWith('nl')) return 'nl';
  }
  return 'nl';
}

function choicesHtml(choices: LoginChoice[]): string {
  const groups = new Map<string, LoginChoice[]>();
  for (const c of choices) groups.set(c.group, [...(groups.get(c.group) ?? []), c]);
  return [...groups]
    .map(
      ([group, list]) =>
        `<fieldset><legend>${escapeHtml(group)}</legend>${list
          .map(
            (c, i) =>
              `<label><input type="radio" name="account" value="${escapeHtml(c.value)}"${i === 0 && group === choices[0].group ? ' checked' : ''}> <strong>${escapeHtml(c.label)}</strong> <span>${escapeHtml(c.detail)}</span></label>`,
          )
          .join('')}</fieldset>`,
    )
    .join('');
}

export function renderLoginPage(p: LoginPageInput): string {
  const t = TEXT[p.lang];
  const k = t[p.kind];
  const otherLang = p.lang === 'nl' ? 'en' : 'nl';
  const fields = p.requirePassword
    ? `<label>${k.account} <input name="account" autocomplete="username" required></label>
       <label>${t.password} <input type="password" name="password" autocomplete="current-password" required></label>`
    : `<p class="note">${t.sandbox}</p>${choicesHtml(p.choices)}`;
  return `<!doctype html>
<html lang="${p.lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${k.title}</title>
<style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem}fieldset{margin:1rem 0}label{display:block;margin:.4rem 0}span{color:#555}.error{color:#b00020}.note{background:#fff8e1;padding:.5rem}button{margin-right:.5rem;padding:.4rem 1rem}</style>
</head><body>
<p><a href="?lang=${otherLang}">${t.other}</a></p>
<h1>${k.title}</h1>
<p>${k.intro} <strong>${escapeHtml(p.clientName)}</strong>.</p>
${p.error ? `<p class="error" role="alert">${escapeHtml(p.error)}</p>` : ''}
<form method="post" action="${escapeHtml(p.action)}">
<input type="hidden" name="lang" value="${p.lang}">
${fields}
<button type="submit" name="do" value="login">${t.login}</button>
<button type="submit" name="do" value="cancel" formnovalidate>${t.cancel}</button>
</form></body></html>`;
}

export const LOGIN_ERRORS = {
  nl: { unknown: 'Onbekende gebruiker of onjuist wachtwoord.', expired: 'Uw inlogsessie is verlopen; begin opnieuw bij de applicatie.' },
  en: { unknown: 'Unknown user or wrong password.', expired: 'Your login session has expired; start again from the application.' },
} as const;
