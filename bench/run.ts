// `npm run bench -- <name> [args]`: runs bench/<name>.ts, which prints one JSON line per figure.
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const available = readdirSync(here)
  .filter((f) => f.endsWith('.ts') && f !== 'run.ts')
  .map((f) => f.slice(0, -3))
  .sort();
const [name, ...args] = process.argv.slice(2);
if (!name || name === '--help' || name === '-h') {
  process.stdout.write(`usage: npm run bench -- <name> [options]\navailable: ${available.join(', ')}\n`);
  process.exit(name ? 0 : 2);
}
const file = join(here, `${name}.ts`);
if (!existsSync(file)) {
  process.stderr.write(`unknown benchmark "${name}"; available: ${available.join(', ')}\n`);
  process.exit(2);
}
process.env.LDN_LOG_LEVEL ??= 'silent';
// Benchmarks measure the code, not the per-caller rate limits of the doors (README: Hardening).
process.env.LDN_SETTING_RATE_LIMIT_SCALE ??= '1000';
const mod = (await import(file)) as { run(args: string[]): Promise<void> };
await mod.run(args);
process.exit(0);
