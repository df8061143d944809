import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

// The sandbox manifest: everything a script needs to talk to the running network.
// Paths are absolute; URLs are https with the sandbox CA (ca.cert).

export interface ManifestParticipant {
  ura: string;
  name: string;
  type: string;
  agb: string;
  city: string;
  node: string;
  nodeUrl?: string;
  /** The node's process id (`ldn sandbox --processes`). */
  nodePid?: number;
  cert: string;
  key: string;
}

export interface Manifest {
  version: 1;
  startedAt: string;
  pid: number;
  storage: string;
  ca: { cert: string };
  /** `pid`: the part's own process (`ldn sandbox --processes`; absent in-process). */
  services: Record<string, { url: string; pid?: number }>;
  participants: ManifestParticipant[];
  vendors: Array<{ kvk: string; name: string; hosts: string[]; cert: string; key: string }>;
  nodes: Array<{ name: string; url: string; viewer: string; pid?: number }>;
  ehrSimulator: { url: string };
  operator: { ura: string; name: string; cert: string; key: string };
  users: {
    clinicians: Array<{ deziNumber: string; name: string; roleCode: string; roleName?: string; ura: string; viewer: string }>;
    citizens: Array<{ bsn: string; name: string; birthDate: string }>;
  };
  portal?: { url: string };
  /** NCPeH-NL and the second country's contact point, hospital and pharmacy (src/sandbox/second-country.ts). */
  crossBorder?: import('./second-country.ts').ManifestCrossBorder;
  /** Secondary use (EHDS): the HDAB and the research organisations that may apply for permits. */
  secondaryUse?: {
    hdab: { ura: string; name: string; url: string; cert: string; key: string };
    researchOrganisations: Array<{ ura: string; name: string; cert: string; key: string }>;
  };
}

export function writeManifest(path: string, manifest: Manifest): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(manifest, null, 2)}\n`);
}
