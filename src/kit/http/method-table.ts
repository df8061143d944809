// Which methods the registered routes serve on a path, so an unsupported interaction on a
// served path is a 405 with Allow (FHIR http.html), and only an unknown path is a 404.

interface RouteRecord {
  methods: string[];
  pattern: RegExp;
}

function patternOf(url: string): RegExp {
  const escaped = url
    .split('/')
    .map((segment) => {
      if (segment === '*') return '.*';
      if (segment.startsWith(':')) return '[^/]+';
      return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    })
    .join('/');
  return new RegExp(`^${escaped}$`);
}

export class MethodTable {
  private readonly routes: RouteRecord[] = [];

  add(method: string | string[], url: string): void {
    this.routes.push({ methods: (Array.isArray(method) ? method : [method]).map((m) => m.toUpperCase()), pattern: patternOf(url) });
  }

  /** Methods served on this concrete path (empty: the path is unknown). */
  allowed(path: string): string[] {
    const out = new Set<string>();
    for (const r of this.routes) if (r.pattern.test(path)) for (const m of r.methods) out.add(m);
    return [...out].sort();
  }
}
