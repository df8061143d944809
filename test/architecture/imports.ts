import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

// The import graph of the repository as the TypeScript compiler resolves it: `tsc --explainFiles`
// names, for every file of the program, each file that imports it (static, dynamic, re-exports
// and type-only imports alike). The installed TypeScript 7 has no JavaScript API, so the test
// reads this explanation rather than parsing code itself.

export interface ImportEdge {
  from: string;
  to: string;
}

const IMPORTED_VIA = /^\s+Imported via .+ from file '([^']+)'/;

/** Every import between the program's own files (node_modules left out), as repository paths. */
export function importGraph(repo = process.cwd()): ImportEdge[] {
  const tsc = join(repo, 'node_modules', '.bin', 'tsc');
  const run = spawnSync(tsc, ['-p', 'tsconfig.json', '--noEmit', '--noCheck', '--explainFiles'], { cwd: repo, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (run.error) throw run.error;
  const edges: ImportEdge[] = [];
  let file: string | undefined;
  for (const line of run.stdout.split('\n')) {
    if (line && !line.startsWith(' ')) {
      file = line.includes('node_modules') || !line.endsWith('.ts') ? undefined : line.trim();
      continue;
    }
    const m = IMPORTED_VIA.exec(line);
    if (file && m && !m[1].includes('node_modules')) edges.push({ from: m[1], to: file });
  }
  if (edges.length === 0) throw new Error(`tsc --explainFiles gave no imports (exit ${run.status}): ${run.stderr.slice(0, 500)}`);
  return edges;
}

/** The part a source file belongs to (src/<part>/…), or undefined outside src/. */
export function partOf(file: string): string | undefined {
  const [top, part, ...rest] = file.split('/');
  return top === 'src' && rest.length > 0 ? part : undefined;
}
