import { readFileSync } from 'node:fs';
import type { PartDefinition } from '../kit/part.ts';
import type { NodeTenant } from './environment.ts';
import { createNetworkEnvironment } from './network-environment.ts';
import { createNodePart, type NodeOptions } from './part.ts';
import { nodeSettingsOf } from './serve-settings.ts';

// `ldn serve node`: a participant node configured from settings, for production (declared in
// serve-settings.ts: tenants, node_name, overview_deadline_ms, referral_sync_ms, viewer, …).
// With viewer=true the clinician viewer is served at /viewer/ (the identity part must know its
// client); the composer (src/sandbox/registry.ts) hands the viewer in, from src/portals/clinician/.

interface TenantConfig {
  ura: string;
  name: string;
  type: string;
  certFile: string;
  keyFile: string;
  ehrBaseUrl: string;
}

export function loadTenants(path: string, caPem: string): NodeTenant[] {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new Error(`setting tenants: cannot read ${path}: ${(err as Error).message}`);
  }
  if (!Array.isArray(raw) || raw.length === 0) throw new Error('setting tenants: the file must hold a non-empty JSON array');
  return raw.map((t: Partial<TenantConfig>, i) => {
    for (const k of ['ura', 'name', 'type', 'certFile', 'keyFile', 'ehrBaseUrl'] as const) {
      if (typeof t[k] !== 'string' || !t[k]) throw new Error(`setting tenants: entry ${i} lacks "${k}"`);
    }
    if (!/^\d{8}$/.test(t.ura!)) throw new Error(`setting tenants: entry ${i} has an invalid URA`);
    return {
      ura: t.ura!,
      name: t.name!,
      type: t.type!,
      ehrBaseUrl: t.ehrBaseUrl!.replace(/\/+$/, ''),
      identity: { cert: readFileSync(t.certFile!, 'utf8'), key: readFileSync(t.keyFile!, 'utf8'), ca: caPem },
    };
  });
}

/** The clinician viewer as its composer mounts it on the node (the node never imports the portals). */
export type NodeViewer = Required<Pick<NodeOptions, 'extensions' | 'extraPublicPaths'>>;

export function configuredNodePart(given: Record<string, string | undefined>, caPem: string, viewer?: NodeViewer): PartDefinition {
  const settings = nodeSettingsOf(given);
  if (!settings.tenantsFile) throw new Error('setting tenants is required (LDN_SETTING_TENANTS=<path to tenants JSON>)');
  const name = settings.nodeName;
  const tenants = loadTenants(settings.tenantsFile, caPem);
  return createNodePart({
    name,
    tenants,
    environment: (ctx) => createNetworkEnvironment(ctx, { nodeName: name, tenants }),
    overviewDeadlineMs: settings.overviewDeadlineMs,
    referralSyncIntervalMs: settings.referralSyncMs,
    // The built-in clinician viewer (the sandbox's; an EHR normally shows the overview itself).
    ...(settings.viewer ? viewerOrRefusal(viewer) : {}),
  });
}

function viewerOrRefusal(viewer: NodeViewer | undefined): NodeViewer {
  if (!viewer) throw new Error('setting viewer=true: this way of starting the node brings no clinician viewer');
  return viewer;
}
