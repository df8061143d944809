import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { createLogger } from '../src/kit/log.ts';
import { newTrace } from '../src/kit/trace.ts';
import { deGrootDischarge, THUISZORG, VELUWE } from '../src/node/ehr-sim/workflow-stories.ts';
import { insertTaskWithNotification } from '../src/node/workflow/store.ts';
import { notificationTask } from '../src/node/workflow/task-resources.ts';
import { DE_GROOT } from '../src/sandbox/cast.ts';
import { clinicianVerklaring } from '../src/sandbox/clinician-login.ts';
import { startSandbox } from '../src/sandbox/sandbox.ts';
import { argValue, figure, percentile } from './lib/report.ts';

// Notified pull between two real nodes of the sandbox (Ziekenhuis Veluwe → Thuiszorg Limburg):
// (1) notifications delivered per second by the sender's outbox (mTLS, org token, the
//     receiver's checks and its one-handover-per-Task insert) against bare mTLS POSTs of the
//     same notification to a bare node:https server, same concurrency, same count;
// (2) time from a delivered notification to the receiver's first successful pull (token at
//     the sender, the workflow Task, the first named resource) against a bare mTLS GET.
// Rounds interleave ceiling and ours. Options: --count N (notifications per round, default 40),
// --pulls N (default 8), --rounds N (default 2).

export async function run(args: string[]): Promise<void> {
  const count = argValue(args, '--count', 40);
  const pulls = argValue(args, '--pulls', 8);
  const rounds = argValue(args, '--rounds', 2);
  const dir = mkdtempSync(join(tmpdir(), 'ldn-bench-np-'));
  const sandbox = await startSandbox({ manifestPath: join(dir, 'sandbox.json'), portBase: 0, log: createLogger('bench', { level: 'silent' }) });
  try {
    const veluwe = sandbox.nodes.find((n) => n.name === 'veluwe')!.runtime()!;
    const zuid = sandbox.nodes.find((n) => n.name === 'zuid')!.runtime()!;
    const story = deGrootDischarge();
    for (const r of story.resources) {
      await fetch(`${sandbox.ehr.url}/${VELUWE}/fhir/${r.resourceType}/${r.id}`, { method: 'PUT', headers: { 'content-type': 'application/fhir+json' }, body: JSON.stringify(r) });
    }
    const found = (await fetch(`${sandbox.ehr.url}/${VELUWE}/fhir/Patient?identifier=http://fhir.nl/fhir/NamingSystem/bsn|${DE_GROOT.bsn}`).then((r) => r.json())) as { entry: Array<{ resource: { id: string } }> };
    const patient = found.entry[0].resource;
    const veluweTenant = veluwe.tenants.get(VELUWE)!;
    const thuiszorg = zuid.tenants.get(THUISZORG)!;

    // The ceiling: a bare HTTPS server asking for and verifying client certificates.
    const bare = createServer({ key: thuiszorg.identity.key, cert: thuiszorg.identity.cert, ca: thuiszorg.identity.ca, requestCert: true, rejectUnauthorized: true }, (req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(req.method === 'POST' ? 201 : 200, { 'content-type': 'application/fhir+json' });
        res.end(JSON.stringify(story.composition));
      });
    });
    await new Promise<void>((r) => bare.listen(0, '127.0.0.1', r));
    const bareUrl = `https://127.0.0.1:${(bare.address() as AddressInfo).port}`;
    const agent = new Agent({ connect: { cert: veluweTenant.identity.cert, key: veluweTenant.identity.key, ca: veluweTenant.identity.ca }, connections: 20 });
    const body = JSON.stringify(notificationTask({ senderUra: VELUWE, receiverUra: THUISZORG, exchange: 'eoverdracht', taskUrl: `${veluwe.ctx.baseUrl}/org/${VELUWE}/fhir/Task/x` }));

    async function bareRound(): Promise<number> {
      const started = performance.now();
      let next = 0;
      await Promise.all(
        Array.from({ length: 20 }, async () => {
          while (next++ < count) {
            const r = await request(`${bareUrl}/Task`, { method: 'POST', dispatcher: agent, body, headers: { 'content-type': 'application/fhir+json' } });
            await r.body.text();
          }
        }),
      );
      return count / ((performance.now() - started) / 1000);
    }

    async function makeTasks(status: 'requested' | 'accepted'): Promise<string[]> {
      const ids: string[] = [];
      for (let i = 0; i < count; i++) {
        const id = randomUUID();
        ids.push(id);
        await insertTaskWithNotification(veluwe.ctx.store, {
          id,
          tenantUra: VELUWE,
          exchange: 'eoverdracht',
          ownerUra: THUISZORG,
          patientId: patient.id,
          status,
          inputs: story.inputs,
          requester: { name: 'bench' },
        });
      }
      return ids;
    }

    async function oursRound(): Promise<number> {
      const ids = await makeTasks('requested');
      const started = performance.now();
      for (;;) {
        await veluwe.workflow.deliverDue();
        const [{ n }] = await veluwe.ctx.store.query<{ n: string }>(`SELECT count(*) AS n FROM workflow_outbox WHERE task_id = ANY($1) AND state = 'delivered'`, [ids]);
        if (Number(n) === count) break;
        const [{ failed }] = await veluwe.ctx.store.query<{ failed: string }>(`SELECT count(*) AS failed FROM workflow_outbox WHERE task_id = ANY($1) AND state = 'refused'`, [ids]);
        if (Number(failed) > 0) throw new Error('the receiver refused notifications');
      }
      return count / ((performance.now() - started) / 1000);
    }

    await bareRound();
    await oursRound(); // warm-up: tokens, connections, JIT
    const ratios: number[] = [];
    const ours: number[] = [];
    const ceiling: number[] = [];
    for (let i = 0; i < rounds; i++) {
      const c = await bareRound();
      const o = await oursRound();
      ratios.push(o / c);
      ours.push(o);
      ceiling.push(c);
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    figure('notified-pull', 'notifications_per_s', median(ours), { unit: '1/s', count, concurrency: 20 });
    figure('notified-pull', 'bare_mtls_post_per_s', median(ceiling), { unit: '1/s', count, concurrency: 20 });
    figure('notified-pull', 'notifications_per_s_ratio', median(ratios), { ceiling: 'bare mTLS POST of the same notification, same concurrency', rounds });

    // (2) Notification delivered → the receiver's first successful pull (a fresh Task each time,
    // accepted, so the pull is the first thing that happens after delivery).
    const verklaring = await clinicianVerklaring(sandbox, '900001051');
    const nurse = { deziNumber: '900001051', name: 'E. Janssen', roleCode: '30.015', verklaring };
    const pullMs: number[] = [];
    const bareMs: number[] = [];
    for (let i = 0; i < pulls; i++) {
      const b0 = performance.now();
      await (await request(`${bareUrl}/Composition/x`, { dispatcher: agent })).body.text();
      bareMs.push(performance.now() - b0);
      const id = randomUUID();
      await insertTaskWithNotification(veluwe.ctx.store, { id, tenantUra: VELUWE, exchange: 'eoverdracht', ownerUra: THUISZORG, patientId: patient.id, status: 'accepted', inputs: [story.inputs[0]], requester: { name: 'bench' } });
      await veluwe.workflow.deliverDue();
      const [note] = await zuid.ctx.store.query<{ id: string }>('SELECT id FROM workflow_inbox WHERE task_url LIKE $1', [`%/Task/${id}`]);
      if (!note) throw new Error('notification not delivered');
      const t0 = performance.now();
      const handover = await zuid.workflow.receiver.open(thuiszorg, note.id, nurse, newTrace());
      if (handover.refused.length) throw new Error(`pull refused: ${handover.refused.join('; ')}`);
      pullMs.push(performance.now() - t0);
    }
    const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
    figure('notified-pull', 'first_pull_ms_p50', percentile(sorted(pullMs), 50), { unit: 'ms', pulls, includes: 'token, workflow Task, patient + 1 named resource, audit both sides' });
    figure('notified-pull', 'bare_mtls_get_ms_p50', percentile(sorted(bareMs), 50), { unit: 'ms', pulls });
    figure('notified-pull', 'first_pull_speed_ratio', percentile(sorted(bareMs), 50) / percentile(sorted(pullMs), 50), { ceiling: 'one bare mTLS GET (keep-alive)', pulls });
    await agent.close();
    bare.close();
  } finally {
    await sandbox.stop();
  }
}
