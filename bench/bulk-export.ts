import { randomBytes } from 'node:crypto';
import type { Patient, Resource } from '@medplum/fhirtypes';
import { bsnOf } from '../src/node/bulk-export/extract.ts';
import { deidentify, sensitiveStrings } from '../src/node/bulk-export/deidentify.ts';
import { HDAB_URL, startExportNetwork } from '../src/node/bulk-export/test-network.ts';
import { evaluateResearch, researchPseudonym } from '../src/pseudonyms/research.ts';
import { createTestDatabase } from '../test/e2e/sandbox-helpers.ts';
import { argValue, figure } from './lib/report.ts';

// Secondary use: resources per second one holder node extracts for the HDAB (kick-off, status
// polling, per patient: EHR searches over HTTP, the research opt-out, a research pseudonym from
// the PRS over mTLS, de-identification, NDJSON files in the node's tables, download) against
// writing the same NDJSON without the network in the same run (the same EHR rows read by SQL,
// the same OPRF and de-identification in process). Rounds alternate; the figure is the median ratio.
// With --postgres every part has its tables in a fresh PostgreSQL database (as in production,
// where the EHR, the PRS and the node do not share one single-connection PGlite).
//   npm run bench -- bulk-export [--patients 400] [--rounds 2] [--postgres]

const TYPES = ['Patient', 'Condition', 'MedicationStatement', 'Observation'];
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export async function run(args: string[]): Promise<void> {
  const patients = argValue(args, '--patients', 400);
  const rounds = argValue(args, '--rounds', 2);
  const db = args.includes('--postgres') ? await createTestDatabase() : undefined;
  const net = await startExportNetwork({ patients, seed: 'bench-bulk-export', databaseUrl: db?.url });
  try {
    const seed = randomBytes(32);
    let jti = 0;
    const permitFor = () => net.hdab.sign({ iss: HDAB_URL, jti: `bench-${++jti}`, cohort: {}, types: TYPES, date_precision: 'year' });

    const throughNode = async () => {
      const start = performance.now();
      const { manifest } = await net.runExport(await permitFor());
      const seconds = (performance.now() - start) / 1000;
      return manifest.output.reduce((n, f) => n + f.count, 0) / seconds;
    };

    // The ceiling: the same rows, the same per-patient work, no HTTP and no job tables.
    const inProcess = async () => {
      const start = performance.now();
      const domain = `ceiling-${++jti}`;
      const idKey = randomBytes(32);
      const lines: string[] = [];
      const rows = await net.ehrStore.query<{ resource: Patient | string }>(`SELECT resource FROM ehr_resources WHERE resource_type = 'Patient' AND NOT deleted`);
      for (const row of rows) {
        const patient = (typeof row.resource === 'string' ? JSON.parse(row.resource) : row.resource) as Patient;
        const bsn = bsnOf(patient);
        if (!bsn || !patient.id) continue;
        const own = await net.ehrStore.query<{ resource: Resource | string }>('SELECT resource FROM ehr_resources WHERE patient_id = $1 AND resource_type = ANY($2) AND NOT deleted', [patient.id, TYPES.slice(1)]);
        const pseudonym = await researchPseudonym(bsn, { jws: domain, jti: domain }, async (r) => evaluateResearch(r.encryptedPersonalId, domain, seed));
        const ctx = { pseudonym, patientIds: new Set([patient.id]), precision: 'year' as const, idKey, sensitive: sensitiveStrings([patient], bsn) };
        for (const r of [patient, ...own.map((o) => (typeof o.resource === 'string' ? JSON.parse(o.resource) : o.resource) as Resource)]) {
          const d = deidentify(r, ctx);
          if (d) lines.push(JSON.stringify(d));
        }
      }
      const ndjson = `${lines.join('\n')}\n`;
      const seconds = (performance.now() - start) / 1000;
      return { rate: lines.length / seconds, bytes: ndjson.length };
    };

    await inProcess(); // warm both paths once
    await throughNode();
    const nodeRates: number[] = [];
    const rawRates: number[] = [];
    for (let i = 0; i < rounds; i++) {
      rawRates.push((await inProcess()).rate);
      nodeRates.push(await throughNode());
    }
    const ratios = nodeRates.map((n, i) => n / rawRates[i]);
    figure('bulk-export', 'node_vs_in_process_ratio', median(ratios), { target: 0.3, rounds: ratios.map((r) => Number(r.toFixed(3))), store: db ? 'postgres' : 'pglite' });
    figure('bulk-export', 'node_resources_per_s', median(nodeRates), { patients });
    figure('bulk-export', 'in_process_resources_per_s', median(rawRates), { patients });
  } finally {
    await net.stop();
    await db?.drop();
  }
}
