import { randomBytes } from 'node:crypto';
import type { AuditEvent } from '@medplum/fhirtypes';
import canonicalize from 'canonicalize';
import cliProgress from 'cli-progress';
import { appendAuditEvents, auditLogMigrations, createAuditLogWriter } from '../src/audit/chain.ts';
import { buildAuditEvent } from '../src/audit/event.ts';
import { appendLeafHashes, createLogAppender, inclusionProof, transparencyLogMigrations, treeRoot } from '../src/audit/transparency/log-store.ts';
import { leafHash } from '../src/audit/transparency/merkle.ts';
import { verifyInclusionProof } from '../src/audit/transparency/tree-head.ts';
import { openStore } from '../src/kit/store/open.ts';
import type { Store } from '../src/kit/store/store.ts';
import { argValue, figure, percentile } from './lib/report.ts';

// Audit figures, all on PostgreSQL in one run:
//  1. appends/s to the hash-chained local log (concurrent callers, group commit) as a ratio to
//     raw single-row INSERTs of the same rows into the same PostgreSQL with the same concurrency;
//  2. transparency-log appends/s (one event per call with concurrent callers, as POST /AuditEvent does);
//  3. inclusion-proof time in a log of --entries leaves (default 10 000 000), bulk-built first.
// Options: --database-url URL, --events N, --concurrency C, --tlog-appends N, --entries N, --proofs N.

const BENCH = 'audit';

function stringArg(args: string[], flag: string, fallback: string): string {
  const i = args.indexOf(flag);
  return i >= 0 && args[i + 1] ? args[i + 1] : fallback;
}

function sampleEvent(i: number): AuditEvent {
  return buildAuditEvent({
    id: `bench-${i}-${randomBytes(4).toString('hex')}`,
    who: { professionalNumber: '900001011', professionalName: 'A. Bakker', roleCode: '01.045', organizationUra: '90000101', clientId: 'veluwe', otherPartyUra: '90000102' },
    what: { exchange: 'acute-zorg', dataCategories: ['MedicationRequest'], interaction: 'search-type', query: 'MedicationRequest?patient=Patient/p1', side: 'requester' },
    patient: { localReference: `Patient/p${i % 1000}`, transparencyPseudonym: `tp-${i % 1000}` },
    why: { purposeOfUse: 'TREAT' },
    outcome: 'success',
    traceparent: `00-${randomBytes(16).toString('hex')}-${randomBytes(8).toString('hex')}-01`,
  });
}

/** Runs `total` tasks with `concurrency` callers in flight; returns per-second throughput. */
async function throughput(total: number, concurrency: number, task: (i: number) => Promise<unknown>): Promise<number> {
  let next = 0;
  const start = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) await task(next++);
    }),
  );
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  return total / seconds;
}

async function openBenchStore(url: string, migrations = auditLogMigrations, poolSize = 10): Promise<{ store: Store; drop(): Promise<void> }> {
  const schema = `bench_audit_${randomBytes(4).toString('hex')}`;
  const store = await openStore({ schema, databaseUrl: url, poolSize }, migrations);
  return {
    store,
    async drop() {
      await store.exec(`DROP SCHEMA ${schema} CASCADE`);
      await store.close();
    },
  };
}

export async function run(args: string[]): Promise<void> {
  const url = stringArg(args, '--database-url', process.env.LDN_BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test');
  const events = argValue(args, '--events', 20_000);
  const concurrency = argValue(args, '--concurrency', 32);
  const tlogAppends = argValue(args, '--tlog-appends', 5_000);
  const entries = argValue(args, '--entries', 10_000_000);
  const proofs = argValue(args, '--proofs', 200);

  // 1. Local chain vs raw INSERT, interleaved rounds so both see the same server state.
  {
    const { store, drop } = await openBenchStore(url);
    try {
      await store.exec('CREATE TABLE raw_insert (seq bigserial PRIMARY KEY, event_id text NOT NULL UNIQUE, recorded timestamptz NOT NULL, entry text NOT NULL)');
      const prepared = Array.from({ length: events * 2 }, (_, i) => sampleEvent(i));
      const rawTexts = prepared.map((e) => canonicalize({ seq: 0, event: e })!);
      await appendAuditEvents(store, prepared.slice(0, 10).map((e) => ({ ...e, id: `warm-${e.id}` }))); // warm-up
      // Interleaved rounds (raw, chain, raw, chain, …): a noisy neighbour hits both alike; the
      // ratio is the median of the per-round ratios.
      const roundCount = 4;
      const perRound = Math.floor(events / roundCount);
      const ratios: number[] = [];
      let rawRate = 0;
      let chainRate = 0;
      for (let r = 0; r < roundCount; r++) {
        const base = r * perRound;
        const raw = await throughput(perRound, concurrency, (i) =>
          store.query('INSERT INTO raw_insert (event_id, recorded, entry) VALUES ($1, $2, $3)', [prepared[base + i].id, prepared[base + i].recorded, rawTexts[base + i]]),
        );
        const writer = createAuditLogWriter(store);
        const chain = await throughput(perRound, concurrency, (i) => writer.append(prepared[events + base + i]));
        rawRate += raw / roundCount;
        chainRate += chain / roundCount;
        ratios.push(chain / raw);
      }
      ratios.sort((a, b) => a - b);
      figure(BENCH, 'raw_insert_per_s', rawRate, { concurrency });
      figure(BENCH, 'chain_appends_per_s', chainRate, { concurrency });
      figure(BENCH, 'chain_vs_raw_insert_ratio', percentile(ratios, 50), { target: 0.5, rounds: ratios.map((x) => Number(x.toFixed(3))) });
    } finally {
      await drop();
    }
  }

  // 2. Transparency-log appends: one event per transaction, concurrent callers.
  {
    const { store, drop } = await openBenchStore(url, transparencyLogMigrations);
    try {
      const bodies = Array.from({ length: tlogAppends }, (_, i) => sampleEvent(i));
      const appender = createLogAppender(store);
      const rate = await throughput(tlogAppends, concurrency, (i) =>
        appender.append({ eventId: bodies[i].id!, body: canonicalize(bodies[i])!, pseudonym: `tp-${i % 1000}`, recorded: bodies[i].recorded }),
      );
      figure(BENCH, 'transparency_appends_per_s', rate, { concurrency, mode: 'one event per call, group commit as in POST /AuditEvent' });
    } finally {
      await drop();
    }
  }

  // 3. Inclusion proofs in a large log: bulk-build leaf and subtree hashes, then time proofs.
  {
    const { store, drop } = await openBenchStore(url, transparencyLogMigrations, 4);
    try {
      const chunk = 50_000;
      const bar = new cliProgress.SingleBar({ format: 'building Merkle log {bar} {value}/{total} leaves ({eta}s left)', stream: process.stderr, noTTYOutput: true, notTTYSchedule: 10_000 }, cliProgress.Presets.shades_classic);
      bar.start(entries, 0);
      const buildStart = process.hrtime.bigint();
      for (let size = 0; size < entries; size += chunk) {
        const n = Math.min(chunk, entries - size);
        const leaves = Array.from({ length: n }, (_, k) => leafHash(Buffer.from(`leaf-${size + k}`)));
        await store.transaction((tx) => appendLeafHashes(tx, leaves));
        bar.update(size + n);
      }
      bar.stop();
      const buildSeconds = Number(process.hrtime.bigint() - buildStart) / 1e9;
      figure(BENCH, 'merkle_bulk_build_leaves_per_s', entries / buildSeconds, { entries });

      const root = await treeRoot(store, entries);
      const times: number[] = [];
      for (let p = 0; p < proofs; p++) {
        const index = Math.floor(Math.random() * entries);
        const t0 = process.hrtime.bigint();
        const proof = await inclusionProof(store, index, entries);
        times.push(Number(process.hrtime.bigint() - t0) / 1e6);
        if (p === 0) {
          const ok = verifyInclusionProof(proof, `leaf-${index}`, { treeSize: entries, rootHash: root.toString('base64'), timestamp: '' });
          if (!ok) throw new Error('inclusion proof did not verify');
        }
      }
      times.sort((a, b) => a - b);
      figure(BENCH, 'inclusion_proof_ms_p50', percentile(times, 50), { entries, proofs });
      figure(BENCH, 'inclusion_proof_ms_p99', percentile(times, 99), { entries, proofs });
    } finally {
      await drop();
    }
  }
}
