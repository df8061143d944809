import { readFileSync, writeFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import { passed, htmlReport, junitReport, textReport } from '../conformance/report.ts';
import { openAuditLog } from '../conformance/audit-log.ts';
import { ROLES, runConformance, type ConformanceRole } from '../conformance/run.ts';
import type { Manifest } from '../sandbox/manifest.ts';
import { manifestClinicianVerklaring } from '../sandbox/clinician-login.ts';

// `ldn conformance`: the national test and validation kit for vendors. Exit 0 when every rule
// passes, 1 when any fails; the readable report goes to stdout, JUnit XML and HTML to files.

export function conformanceCommand(): Command {
  return new Command('conformance')
    .description('check a vendor\'s implementation against the network\'s requirements: a holder node (/org/<URA>/fhir), a directory source, or the EHR behind a node')
    .requiredOption('--target <url>', 'the base URL under test (holder: https://node/org/<URA>/fhir; directory-source: the directory; ehr: the EHR\'s FHIR base)')
    .addOption(new Option('--as <role>', 'the role the target plays').choices([...ROLES]).makeOptionMandatory())
    .option('--exchange <code>', 'exchange to check (holder role)', 'acute-zorg')
    .option('--manifest <path>', 'the network to act in (sandbox manifest: CA, trust URL, participant certificates)', '.ldn/sandbox.json')
    .option('--requester <ura>', 'participant the kit acts as (default: the first one that is not the target)')
    .option('--clinician <dezi>', 'clinician whose verklaring carries user-level scopes (default: the first of the requester)')
    .option('--bsn <bsn>', 'test patient the target holds data about', '900010010')
    .option('--deadline-ms <n>', 'longest acceptable answer per search (holder role)', '3000')
    .option('--audit-wait-ms <n>', 'how long the holder\'s accesses may take to reach the transparency log', '30000')
    .option('--audit-schema <schema>', 'holder role: schema of the holder\'s audit log, verified as `ldn audit verify` does (audit-written rule)')
    .option('--audit-database-url <url>', 'PostgreSQL of that audit log (default: PGlite in --audit-data-dir)')
    .option('--audit-data-dir <path>', 'PGlite data directory of that audit log')
    .option('--junit <file>', 'write JUnit XML here', 'conformance-junit.xml')
    .option('--html <file>', 'write the HTML report here', 'conformance-report.html')
    .action(async (opts: { target: string; as: ConformanceRole; exchange: string; manifest: string; requester?: string; clinician?: string; bsn: string; deadlineMs: string; auditWaitMs: string; auditSchema?: string; auditDatabaseUrl?: string; auditDataDir?: string; junit: string; html: string }) => {
      const manifest = JSON.parse(readFileSync(opts.manifest, 'utf8')) as Manifest;
      const requester = opts.requester ?? manifest.participants.find((p) => !opts.target.includes(`/org/${p.ura}/`))?.ura;
      let verklaring: string | undefined;
      if (opts.as === 'holder') {
        const dezi = opts.clinician ?? manifest.users.clinicians.find((c) => c.ura === requester)?.deziNumber;
        if (dezi) verklaring = await manifestClinicianVerklaring(manifest, dezi);
      }
      const audit = opts.auditSchema ? await openAuditLog({ schema: opts.auditSchema, databaseUrl: opts.auditDatabaseUrl, dataDir: opts.auditDataDir }) : undefined;
      const report = await runConformance({
        target: opts.target,
        role: opts.as,
        exchange: opts.exchange,
        manifest,
        requester,
        verklaring,
        bsn: opts.bsn,
        deadlineMs: Number(opts.deadlineMs),
        auditWaitMs: Number(opts.auditWaitMs),
        auditLog: audit?.verify,
      }).finally(() => audit?.close());
      writeFileSync(opts.junit, junitReport(report));
      writeFileSync(opts.html, htmlReport(report));
      process.stdout.write(textReport(report));
      process.stdout.write(`JUnit XML: ${opts.junit}; HTML: ${opts.html}\n`);
      process.exit(passed(report) ? 0 : 1);
    });
}
