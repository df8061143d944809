import type { NetworkView } from '../kit/part.ts';

/** The sandbox's view of where every part listens; filled in as parts start. */
export class SandboxNetwork implements NetworkView {
  private readonly urls = new Map<string, string>();

  set(part: string, url: string): void {
    this.urls.set(part, url);
  }

  url(part: string): string {
    const u = this.urls.get(part);
    if (!u) throw new Error(`part "${part}" is not running in this sandbox`);
    return u;
  }

  has(part: string): boolean {
    return this.urls.has(part);
  }

  entries(): Array<[string, string]> {
    return [...this.urls.entries()];
  }
}
