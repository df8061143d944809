import { roleName } from '../kit/identifiers/roles.ts';
import { CITIZENS, CLINICIANS, OPERATOR } from './cast.ts';
import type { SandboxCast } from './context.ts';
import type { Manifest } from './manifest.ts';
import type { IssuedFiles, SandboxPki } from './pki.ts';

// The sandbox manifest, one builder for both run modes (in-process and `ldn sandbox --processes`):
// the same shape whichever runs, so scripts and `ldn conformance` work on either.

export function sandboxManifest(input: {
  cast: SandboxCast;
  pki: SandboxPki;
  operator: IssuedFiles;
  files: Map<string, { cert: string; key: string }>;
  storage: string;
  services: Record<string, string>;
  nodes: Array<{ name: string; url: string }>;
  ehrUrl: string;
  portalUrl: string;
  crossBorder?: Manifest['crossBorder'];
  secondaryUse?: Manifest['secondaryUse'];
}): Manifest {
  const nodeOf = new Map(input.nodes.map((n) => [n.name, n.url]));
  const orgs = input.cast.organizations;
  return {
    version: 1,
    startedAt: new Date().toISOString(),
    pid: process.pid,
    storage: input.storage,
    ca: { cert: input.pki.caFile },
    services: Object.fromEntries(Object.entries(input.services).map(([name, url]) => [name, { url }])),
    participants: orgs.map((o) => ({
      ura: o.ura,
      name: o.name,
      type: o.type,
      agb: o.agb,
      city: o.city,
      node: o.node,
      nodeUrl: `${nodeOf.get(o.node)}/org/${o.ura}`,
      cert: input.files.get(`org-${o.ura}`)!.cert,
      key: input.files.get(`org-${o.ura}`)!.key,
    })),
    vendors: input.cast.vendors.map((v) => ({ ...v, cert: input.files.get(`vendor-${v.kvk}`)!.cert, key: input.files.get(`vendor-${v.kvk}`)!.key })),
    nodes: input.nodes.map((n) => ({ name: n.name, url: n.url, viewer: `${n.url}/viewer/` })),
    ehrSimulator: { url: input.ehrUrl },
    operator: { ura: OPERATOR.ura, name: OPERATOR.name, cert: input.operator.cert, key: input.operator.key },
    users: {
      clinicians: CLINICIANS.filter((c) => orgs.some((o) => o.ura === c.ura)).map((c) => ({
        deziNumber: c.deziNumber,
        name: [c.initials, c.prefix, c.surname].filter(Boolean).join(' '),
        roleCode: c.roleCode,
        roleName: roleName(c.roleCode),
        ura: c.ura,
        viewer: `${nodeOf.get(orgs.find((o) => o.ura === c.ura)!.node)}/viewer/`,
      })),
      citizens: CITIZENS.map((c) => ({ bsn: c.bsn, name: [c.given, c.prefix, c.family].filter(Boolean).join(' '), birthDate: c.birthDate })),
    },
    portal: { url: `${input.portalUrl}/` },
    ...(input.crossBorder ? { crossBorder: input.crossBorder } : {}),
    ...(input.secondaryUse ? { secondaryUse: input.secondaryUse } : {}),
  };
}
