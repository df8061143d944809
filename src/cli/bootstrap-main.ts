import { Command } from 'commander';
import { adminCommand } from './admin-command.ts';
import { pkiCommand } from './pki-command.ts';
import { publishDirectoryCommand } from './publish-directory-command.ts';

// `ldn pki|admin|publish-directory` without loading the sandbox and every part (bin/ldn.js routes
// here): a bootstrap runs these commands dozens of times, and the full CLI costs a few CPU seconds
// to load each time. `ldn --help` (src/cli/main.ts) lists the same commands.

const program = new Command('ldn').showSuggestionAfterError(true).showHelpAfterError('(run with --help for usage)');
for (const cmd of [pkiCommand(), adminCommand(), publishDirectoryCommand()]) program.addCommand(cmd.showSuggestionAfterError(true).showHelpAfterError('(run with --help for usage)'));

await program.parseAsync(process.argv).catch((err: Error) => {
  process.stderr.write(`ldn: ${err.message}\n`);
  process.exit(1);
});
