import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { auditVerifyCommand } from '../audit/cli.ts';

export function auditCommand(): Command {
  const audit = new Command('audit').description('work with a node\'s hash-chained audit log');
  audit
    .command('verify')
    .description(
      'check the hash chain of an audit log from its first record; prints the first altered, missing or reordered record. ' +
        'Checkpoints are trusted only with --checkpoint-key: without it a log whose first records were pruned is reported unverifiable (exit 1), ' +
        'and a checkpoint that disagrees with the chain or lies beyond its head is a finding either way',
    )
    .requiredOption('--schema <name>', 'schema of the node store that holds the audit log (e.g. node_zuid)')
    .option('--database-url <url>', 'PostgreSQL URL (default: DATABASE_URL)')
    .option('--data-dir <path>', 'PGlite data directory (a sandbox started with --data-dir keeps it under <dir>/pg)')
    .option('--checkpoint-key <file>', 'the node\'s checkpoint key: a public JWK, or the key set the node serves at /.well-known/audit-checkpoint-jwks.json; needed to verify a pruned log from its signed checkpoint')
    .action(async (opts: { schema: string; databaseUrl?: string; dataDir?: string; checkpointKey?: string }) => {
      const r = await auditVerifyCommand({
        schema: opts.schema,
        databaseUrl: opts.databaseUrl ?? process.env.DATABASE_URL,
        dataDir: opts.dataDir,
        checkpointKey: opts.checkpointKey ? checkpointKeyFrom(JSON.parse(readFileSync(opts.checkpointKey, 'utf8'))) : undefined,
      });
      process.stdout.write(`${r.message}\n`);
      process.exit(r.exitCode);
    });
  return audit;
}

/** A JWK file, or the node's published key set (one key). */
function checkpointKeyFrom(json: unknown): JsonWebKey {
  const keys = (json as { keys?: unknown })?.keys;
  if (Array.isArray(keys)) {
    if (keys.length !== 1) throw new Error('--checkpoint-key: the key set must hold exactly one key');
    return keys[0] as JsonWebKey;
  }
  return json as JsonWebKey;
}
