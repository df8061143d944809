import type { ComposedPart, ComposeEnv } from './compose.ts';
import { castCitizenDirectory, castDirectoryIfAsked, castProfessionalDirectory } from './people.ts';

// The parts `ldn serve <part>` can run, each through its own start path (compose.ts for the parts
// that hold agreements; the sandbox starts those through the same functions). A part run this way
// takes its settings from the environment or a config file (see `ldn serve --help`).

export interface CentralPartEntry {
  name: string;
  start(env: ComposeEnv & { caPem: string }): Promise<ComposedPart>;
}

const plain = (part: Promise<ComposedPart['part']>): Promise<ComposedPart> => part.then((p) => ({ part: p, stop: async () => {} }));

export const CENTRAL_PARTS: CentralPartEntry[] = [
  { name: 'trust', start: () => plain(import('../trust/part.ts').then((m) => m.trustPart)) },
  { name: 'directory', start: () => plain(import('../directory/part.ts').then((m) => m.directoryPart)) },
  { name: 'prs', start: () => plain(import('../pseudonyms/part.ts').then((m) => m.prsPart)) },
  { name: 'nvi', start: async (env) => (await import('./compose.ts')).composeNvi(env) },
  { name: 'consent', start: async (env) => (await import('./compose.ts')).composeConsent(env) },
  { name: 'transparency', start: async (env) => (await import('./compose.ts')).composeTransparency(env) },
  { name: 'identity', start: (env) => plain(import('../identity/part.ts').then((m) => m.createIdentityPart({ directory: castDirectoryIfAsked(env.settings, castProfessionalDirectory) }))) },
  { name: 'citizen-identity', start: (env) => plain(import('../identity/part.ts').then((m) => m.createCitizenIdentityPart({ directory: castDirectoryIfAsked(env.settings, castCitizenDirectory) }))) },
  { name: 'portal', start: () => plain(import('../portals/part.ts').then((m) => m.portalPart)) },
  { name: 'ncpeh', start: (env) => plain(import('../ncpeh/configured.ts').then((m) => m.configuredNcpehPart(env.settings))) },
  { name: 'hdab', start: () => plain(import('../secondary-use/part.ts').then((m) => m.hdabPart)) },
  { name: 'node', start: (env) => plain(configuredNode(env.settings, env.caPem)) },
];

/** `ldn serve node`, with the clinician viewer from the portals mounted through the node's extensions when viewer=true. */
async function configuredNode(settings: Record<string, string | undefined>, caPem: string): Promise<ComposedPart['part']> {
  const { configuredNodePart } = await import('../node/configured.ts');
  if (settings.viewer !== 'true') return configuredNodePart(settings, caPem);
  const { mountClinicianViewer, VIEWER_BASE } = await import('../portals/clinician/mount.ts');
  return configuredNodePart(settings, caPem, { extensions: [mountClinicianViewer], extraPublicPaths: [VIEWER_BASE] });
}

export function partNames(): string[] {
  return CENTRAL_PARTS.map((p) => p.name);
}
