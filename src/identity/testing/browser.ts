import { Agent, fetch } from 'undici';

// A minimal browser for tests: keeps cookies (one origin), follows redirects by hand and stops
// at the client's redirect_uri, which it does not fetch. Trusts the given CA (the test network).

export interface Page {
  status: number;
  url: string;
  body: string;
  location?: string;
}

export class TestBrowser {
  /** Keyed by "path name": paths matter, the library scopes interaction cookies by path. */
  private readonly cookies = new Map<string, { name: string; path: string; value: string }>();
  readonly dispatcher: Agent;

  constructor(ca?: string) {
    this.dispatcher = new Agent({ connect: ca ? { ca } : {} });
  }

  /** A fetch for openid-client / jose that trusts the same CA (no cookies). */
  readonly fetch = ((url: string | URL, init?: Record<string, unknown>) =>
    fetch(url, { ...(init ?? {}), dispatcher: this.dispatcher } as Parameters<typeof fetch>[1])) as unknown as typeof globalThis.fetch;

  private remember(setCookies: string[]): void {
    for (const line of setCookies) {
      const [pair, ...attrs] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const expired = attrs.some((a) => /^\s*expires=/i.test(a) && Date.parse(a.split('=')[1]) < Date.now());
      const path = attrs.map((a) => /^\s*path=(.*)$/i.exec(a)?.[1]?.trim()).find(Boolean) ?? '/';
      const key = `${path} ${name}`;
      if (!value || expired) this.cookies.delete(key);
      else this.cookies.set(key, { name, path, value });
    }
  }

  /** The Cookie header this browser would send to `url` (tests that send their own requests with its session). */
  cookieHeader(url: string): string | undefined {
    const path = new URL(url).pathname;
    const sent = [...this.cookies.values()].filter((c) => path === c.path || path.startsWith(c.path.endsWith('/') ? c.path : `${c.path}/`));
    return sent.length ? sent.map((c) => `${c.name}=${c.value}`).join('; ') : undefined;
  }

  async request(url: string, init: { method?: string; form?: Record<string, string> | Array<[string, string]> } = {}): Promise<Page> {
    const headers: Record<string, string> = { accept: 'text/html' };
    const path = new URL(url).pathname;
    const sent = [...this.cookies.values()].filter((c) => path === c.path || path.startsWith(c.path.endsWith('/') ? c.path : `${c.path}/`));
    if (sent.length) headers.cookie = sent.map((c) => `${c.name}=${c.value}`).join('; ');
    let body: string | undefined;
    if (init.form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams(init.form).toString();
    }
    const res = await fetch(url, { method: init.method ?? (body ? 'POST' : 'GET'), headers, body, redirect: 'manual', dispatcher: this.dispatcher });
    this.remember(res.headers.getSetCookie());
    const location = res.headers.get('location') ?? undefined;
    return { status: res.status, url, body: await res.text(), location: location ? new URL(location, url).href : undefined };
  }

  /**
   * Follows redirects (and self-submitting forms, as a browser with scripts would) until a
   * page that is neither, or a Location under stopAt.
   */
  async follow(url: string, stopAt: string, init: { method?: string; form?: Record<string, string> } = {}): Promise<Page> {
    let page = await this.request(url, init);
    for (let hops = 0; hops < 10; hops++) {
      if (page.location && !page.location.startsWith(stopAt)) page = await this.request(page.location);
      else if (page.status === 200 && page.body.includes('document.forms[0].submit()')) page = await this.submitForm(page);
      else break;
    }
    return page;
  }

  private submitForm(page: Page): Promise<Page> {
    const action = /<form[^>]*action="([^"]+)"/.exec(page.body)?.[1];
    if (!action) throw new Error('auto-submitting page without a form action');
    const form: Record<string, string> = {};
    for (const m of page.body.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"/g)) form[m[1]] = m[2];
    return this.request(new URL(action, page.url).href, { form });
  }

  async close(): Promise<void> {
    await this.dispatcher.close();
  }
}
