import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { buildSync } from 'esbuild';

// The import graph of the source tree, read by a real parser (esbuild, already here as tsx's
// engine; the installed TypeScript 7 has no JavaScript API): every import between our own .ts
// files (static, dynamic, re-exports), as repository paths. Limit: esbuild erases `import type`
// before it resolves, so type-only edges are not seen (issue 16's full rule needs them).

export interface ImportEdge {
  from: string;
  to: string;
}

function walk(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (name.endsWith('.ts')) out.push(p);
  }
  return out;
}

/** Imports between the .ts files below `roots` (relative to the working directory, the repository). */
export function importGraph(roots: string[]): ImportEdge[] {
  const entryPoints = roots.flatMap((r) => walk(r));
  const { metafile } = buildSync({
    entryPoints,
    bundle: true,
    write: false,
    metafile: true,
    outdir: 'out',
    platform: 'node',
    format: 'esm',
    packages: 'external',
    logLevel: 'silent',
  });
  const edges: ImportEdge[] = [];
  for (const [from, input] of Object.entries(metafile.inputs)) {
    for (const i of input.imports) if (!i.external && i.path.endsWith('.ts')) edges.push({ from, to: i.path });
  }
  return edges;
}
