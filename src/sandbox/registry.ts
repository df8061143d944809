import type { PartDefinition } from '../kit/part.ts';

// The parts `ldn serve <part>` can run, each loaded through its own public module. A part run
// this way takes its settings from the environment or a config file (see `ldn serve --help`).

export interface CentralPartEntry {
  name: string;
  load(settings: Record<string, string>, caPem: string): Promise<PartDefinition>;
}

export const CENTRAL_PARTS: CentralPartEntry[] = [
  { name: 'trust', load: async () => (await import('../trust/part.ts')).trustPart },
  { name: 'directory', load: async () => (await import('../directory/part.ts')).directoryPart },
  { name: 'prs', load: async () => (await import('../pseudonyms/part.ts')).prsPart },
  { name: 'nvi', load: async () => (await import('../referral-index/part.ts')).nviPart },
  { name: 'consent', load: async () => (await import('../consent/part.ts')).consentPart },
  { name: 'transparency', load: async () => (await import('../audit/transparency/part.ts')).transparencyPart },
  { name: 'identity', load: async () => (await import('../identity/part.ts')).identityPart },
  { name: 'citizen-identity', load: async () => (await import('../identity/part.ts')).citizenIdentityPart },
  { name: 'portal', load: async () => (await import('../portals/part.ts')).portalPart },
  { name: 'node', load: async (settings, ca) => (await import('../node/configured.ts')).configuredNodePart(settings, ca) },
];

export function partNames(): string[] {
  return CENTRAL_PARTS.map((p) => p.name);
}
