import { deriveOprfKey, type OprfKeyPair } from './oprf.ts';

// The PRS holds one master seed and derives every OPRF key from it: one key per recipient
// organisation, scope and version. Rotation adds a version; while old versions stay active the PRS
// evaluates under all of them, so a recipient can still find what it indexed under the old key.

export interface KeyRingOptions {
  /** 32+ byte master seed (from a secret store; never in the database). */
  seed: Uint8Array;
  /** Active key versions; the highest is the current one. */
  versions: number[];
}

export interface VersionedKey extends OprfKeyPair {
  version: number;
}

export class KeyRing {
  private readonly seed: Uint8Array;
  readonly versions: number[];
  private readonly cache = new Map<string, VersionedKey[]>();

  constructor(options: KeyRingOptions) {
    if (options.seed.length < 32) throw new Error('PRS master seed must be at least 32 bytes');
    const versions = [...new Set(options.versions)].sort((a, b) => b - a);
    if (versions.length === 0 || versions.some((v) => !Number.isInteger(v) || v < 1)) throw new Error('PRS key versions must be positive integers');
    this.seed = options.seed;
    this.versions = versions;
  }

  get current(): number {
    return this.versions[0];
  }

  /** Active keys for a recipient and scope, current version first. */
  keysFor(recipientOrganization: string, recipientScope: string): VersionedKey[] {
    const id = `${recipientOrganization}|${recipientScope}`;
    let keys = this.cache.get(id);
    if (!keys) {
      keys = this.versions.map((version) => ({ version, ...deriveOprfKey(this.seed, keyLabel(recipientOrganization, recipientScope, version)) }));
      if (this.cache.size > 10_000) this.cache.clear();
      this.cache.set(id, keys);
    }
    return keys;
  }
}

export function keyLabel(recipientOrganization: string, recipientScope: string, version: number): string {
  return `ldn-prs|${recipientOrganization}|${recipientScope}|v${version}`;
}

/** Parses "1,2,3" (settings) into versions. */
export function parseVersions(text: string | undefined, fallback = [1]): number[] {
  if (!text) return fallback;
  return text.split(',').map((s) => {
    const n = Number(s.trim());
    if (!Number.isInteger(n) || n < 1) throw new Error(`invalid PRS key version "${s}"`);
    return n;
  });
}
