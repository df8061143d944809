import { Command } from 'commander';
import { adminCommand } from './admin-command.ts';
import { auditCommand } from './audit-command.ts';
import { pkiCommand } from './pki-command.ts';
import { publishDirectoryCommand } from './publish-directory-command.ts';
import { conformanceCommand } from './conformance-command.ts';
import { sandboxCommand } from './sandbox-command.ts';
import { serveCommand } from './serve-command.ts';

// `ldn`: the command line of the network. Every command has --help; unknown options are
// errors with a suggestion (commander's showSuggestionAfterError).

const program = new Command('ldn')
  .description('LDN: the Dutch national health-data network (landelijk dekkend netwerk)')
  .version('0.1.0')
  .showSuggestionAfterError(true)
  .showHelpAfterError('(run with --help for usage)')
  .addCommand(sandboxCommand())
  .addCommand(serveCommand())
  .addCommand(auditCommand())
  .addCommand(pkiCommand())
  .addCommand(adminCommand())
  .addCommand(publishDirectoryCommand())
  .addCommand(conformanceCommand());

for (const cmd of program.commands) cmd.showSuggestionAfterError(true).showHelpAfterError('(run with --help for usage)');

await program.parseAsync(process.argv).catch((err: Error) => {
  process.stderr.write(`ldn: ${err.message}\n`);
  process.exit(1);
});
