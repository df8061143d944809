import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Bundle, MedicationDispense, OperationOutcome, Task } from '@medplum/fhirtypes';
import { PartClient } from '../../src/kit/http/client.ts';
import { deGrootDischarge, deGrootPrescription, GP, PHARMACY, stopAgreement, THUISZORG, VELUWE } from '../../src/node/ehr-sim/workflow-stories.ts';
import { MP9 } from '../../src/node/workflow/exchanges/mp9.ts';
import { notificationTask } from '../../src/node/workflow/task-resources.ts';
import { workflowTaskDetail } from '../../src/node/workflow/token-basis.ts';
import { CITIZENS, DE_GROOT } from '../../src/sandbox/cast.ts';
import type { Sandbox } from '../../src/sandbox/sandbox.ts';
import { TokenRequestError, TrustTokenProvider } from '../../src/trust/auth/token-provider.ts';
import { auditEntries, recordInEhr, statusParams, type WorkflowCaller, workflowCaller } from './notified-pull-helpers.ts';
import { apiOverview, citizenPortalLogin, clinicianVerklaring, startTestSandbox } from './sandbox-helpers.ts';

// Notified pull end to end in the sandbox: the hospital's nurse hands De Groot over to home care
// (eOverdracht), the GP sends a prescription to the pharmacy (medicatieoverdracht). Every pull
// outside what the workflow Task names, before acceptance or after completion is refused and
// audited; notifications survive a receiver that is down and never make two handovers.

const VISSER = '900001013'; // nurse, Ziekenhuis Veluwe
const JANSSEN = '900001051'; // nurse, Thuiszorg Limburg
const HENDRIKS = '900001031'; // GP, Huisartsenpraktijk Kerkrade
const PETERS = '900001041'; // pharmacist, Apotheek Kerkrade
const FYSIO = '90000106';

const refusals = (b: Bundle) => (b.entry ?? []).map((e) => e.resource).filter((r): r is OperationOutcome => r?.resourceType === 'OperationOutcome');
const text = (oo: unknown) => JSON.stringify(oo);

describe('notified pull in the sandbox', { timeout: 900_000 }, () => {
  let sandbox: Sandbox;
  let hospital: WorkflowCaller;
  let homeCare: WorkflowCaller;
  before(async () => {
    sandbox = await startTestSandbox({ overviewDeadlineMs: 30_000 });
    hospital = await workflowCaller(sandbox, VELUWE, VISSER, 'eoverdracht');
    homeCare = await workflowCaller(sandbox, THUISZORG, JANSSEN, 'eoverdracht');
  });
  after(async () => {
    await hospital?.close();
    await homeCare?.close();
    await sandbox?.stop();
  });

  const inbox = async (c: WorkflowCaller) => {
    const r = await c.call<Bundle<Task>>('GET', '/workflow/inbox');
    assert.equal(r.status, 200, text(r.body));
    return (r.body.entry ?? []).map((e) => e.resource!);
  };

  describe('eOverdracht: Ziekenhuis Veluwe discharges De Groot to Thuiszorg Limburg', () => {
    const story = deGrootDischarge();
    let sent: Task;
    let second: Task;
    let notificationId: string;

    it('the hospital nurse sends the handover; the notification is delivered once', async () => {
      await recordInEhr(sandbox, VELUWE, story.resources);
      const r = await hospital.call<Task>('POST', '/workflow/handovers', { exchange: 'eoverdracht', receiver: THUISZORG, patient: DE_GROOT.bsn, inputs: story.inputs });
      assert.equal(r.status, 201, text(r.body));
      sent = r.body;
      assert.equal(sent.status, 'requested');
      assert.equal(sent.owner?.identifier?.value, THUISZORG);
      assert.equal(sent.for?.identifier?.value, DE_GROOT.bsn);
      assert.equal(sent.input?.length, story.inputs.length);
      assert.equal(sent.businessStatus?.coding?.[0]?.code, 'delivered', sent.businessStatus?.text);
      const notes = await inbox(homeCare);
      assert.equal(notes.length, 1);
      assert.match(notes[0].basedOn?.[0]?.reference ?? '', new RegExp(`/org/${VELUWE}/fhir/Task/${sent.id}$`));
      notificationId = notes[0].id!;
    });

    it('a pull before acceptance is refused and audited at the hospital', async () => {
      const r = await homeCare.call<Bundle>('GET', `/workflow/inbox/${notificationId}/$pull`);
      assert.equal(r.status, 200, text(r.body));
      const task = r.body.entry?.[0]?.resource as Task;
      assert.equal(task.status, 'requested', 'the workflow Task itself is readable, to decide');
      const refused = refusals(r.body);
      assert.equal(refused.length, story.inputs.length + 1, 'the patient and every input are refused');
      assert.match(text(refused), /not active/);
      const audited = await auditEntries(sandbox, 'veluwe', `workflow Task ${sent.id}`);
      assert.ok(audited.some((e) => e.includes('refused') && e.includes('not active')), 'the refusal is in the hospital\'s audit log');
    });

    it('the receiving nurse accepts; the hospital sees it', async () => {
      const r = await homeCare.call<Task>('POST', `/workflow/inbox/${notificationId}/$status`, statusParams('accepted'));
      assert.equal(r.status, 200, text(r.body));
      assert.equal(r.body.status, 'accepted');
      const seen = await hospital.call<Task>('GET', `/workflow/handovers/${sent.id}`);
      assert.equal(seen.body.status, 'accepted');
    });

    it('she opens the handover with its sources, and both sides audit it', async () => {
      const r = await homeCare.call<Bundle>('GET', `/workflow/inbox/${notificationId}/$pull`);
      assert.equal(r.status, 200, text(r.body));
      assert.deepEqual(refusals(r.body), []);
      const types = (r.body.entry ?? []).map((e) => e.resource?.resourceType);
      for (const t of ['Task', 'Patient', 'Composition', 'Condition', 'AllergyIntolerance', 'MedicationStatement', 'Procedure', 'CareTeam']) assert.ok(types.includes(t as never), `${t} pulled`);
      const composition = r.body.entry?.find((e) => e.resource?.resourceType === 'Composition')?.resource as { title?: string; section?: unknown[] };
      assert.equal(composition.title, story.composition.title);
      assert.equal(composition.section?.length, 5);
      assert.ok((await auditEntries(sandbox, 'veluwe', `Composition/${story.composition.id} (workflow Task ${sent.id})`)).length >= 1, 'holder audit');
      assert.ok((await auditEntries(sandbox, 'zuid', `Task/${sent.id} (`)).some((e) => e.includes(THUISZORG)), 'requester audit');
    });

    it('a read of something the Task does not name, of another patient, or without the Task in the token is refused and audited', async () => {
      const identity = sandbox.identities.participants.get(THUISZORG)!;
      const node = sandbox.manifest.participants.find((p) => p.ura === VELUWE)!.nodeUrl!;
      const tokens = new TrustTokenProvider({ tls: identity, ura: THUISZORG, tokenEndpoint: `${new URL(node).origin}/oauth/token` });
      const client = new PartClient({ tls: identity, tokens, maxRetries: 0, defaultDeadlineMs: 30_000 });
      const verklaring = await clinicianVerklaring(sandbox, JANSSEN);
      try {
        // The token request names the workflow Task as its basis (RFC 9396 authorization_details).
        const read = (path: string, task: string | null = sent.id!) =>
          client.call<OperationOutcome>(`${node}/fhir/${path}`, {
            scope: 'eoverdracht',
            resource: node,
            userAssertion: verklaring,
            ...(task ? { authorizationDetails: [workflowTaskDetail(task, node)] } : {}),
          });
        const named = await read(`Composition/${story.composition.id}`);
        assert.equal(named.status, 200, text(named.body));
        const admission = story.resources.find((x) => x.resourceType === 'Encounter')!;
        const notNamed = await read(`Encounter/${admission.id}`);
        assert.equal(notNamed.status, 403, text(notNamed.body));
        assert.match(text(notNamed.body), /not named by the workflow Task/);
        // Another Veluwe patient's record (an Apeldoorn citizen the hospital knows).
        const other = await fetch(`${sandbox.ehr.url}/${VELUWE}/fhir/Patient?_count=5`).then((x) => x.json() as Promise<Bundle>);
        const otherPatient = other.entry?.map((e) => e.resource!).find((p) => !JSON.stringify(p).includes(DE_GROOT.bsn));
        assert.ok(otherPatient, 'the hospital knows other patients');
        const another = await read(`Patient/${otherPatient.id}`);
        assert.equal(another.status, 403, text(another.body));
        // The same professional and scope without the Task in the token: no basis for any read.
        const withoutTask = await read(`Composition/${story.composition.id}`, null);
        assert.equal(withoutTask.status, 403, text(withoutTask.body));
        assert.match(text(withoutTask.body), /names no workflow Task/);
        const taskWithoutBasis = await read(`Task/${sent.id}`, null);
        assert.equal(taskWithoutBasis.status, 403, text(taskWithoutBasis.body));
        // A Task that does not exist (or is not addressed to her organisation) gets no token at all.
        await assert.rejects(read(`Composition/${story.composition.id}`, 'no-such-task'), (e: unknown) => e instanceof TokenRequestError && e.error === 'invalid_authorization_details');
        const audited = await auditEntries(sandbox, 'veluwe', `Encounter/${admission.id} (workflow Task ${sent.id})`);
        assert.ok(audited.some((e) => e.includes('refused')), 'refusal audited');
        const auditedWithout = await auditEntries(sandbox, 'veluwe', `Composition/${story.composition.id} (workflow Task none)`);
        assert.ok(auditedWithout.some((e) => e.includes('refused') && e.includes('names no workflow Task')), 'refusal without a basis audited');
      } finally {
        await client.close();
        await tokens.close?.();
      }
    });

    it('De Groot sees the handover and the pull in his access log', async () => {
      const { browser, base } = await citizenPortalLogin(sandbox, DE_GROOT.bsn);
      try {
        const deadline = Date.now() + 120_000;
        for (;;) {
          const page = await browser.request(`${base}/access`);
          assert.equal(page.status, 200);
          const rows = [...page.body.matchAll(/<tr>([\s\S]*?)<\/tr>/g)].map((m) => m[1].replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' '));
          // The pull: Thuiszorg Limburg's nurse looked, Ziekenhuis Veluwe's data was read; the handover: Veluwe's nurse.
          const pull = rows.find((r) => r.includes('Thuiszorg Limburg') && r.includes('E. Janssen') && r.includes('Ziekenhuis Veluwe'));
          const handover = rows.find((r) => r.includes('Ziekenhuis Veluwe') && r.includes('S. Visser'));
          if (pull && handover) break;
          assert.ok(Date.now() < deadline, `access log lacks the handover or the pull: ${JSON.stringify(rows, null, 1)}`);
          await new Promise((r) => setTimeout(r, 2000));
        }
      } finally {
        await browser.close();
      }
    });

    it('after completion she can no longer fetch it', async () => {
      const done = await homeCare.call<Task>('POST', `/workflow/inbox/${notificationId}/$status`, statusParams('completed'));
      assert.equal(done.status, 200, text(done.body));
      assert.equal(done.body.status, 'completed');
      const r = await homeCare.call<Bundle>('GET', `/workflow/inbox/${notificationId}/$pull`);
      assert.equal(refusals(r.body).length, story.inputs.length + 1);
      assert.match(text(refusals(r.body)), /completed, not active/);
      const again = await homeCare.call<OperationOutcome>('POST', `/workflow/inbox/${notificationId}/$status`, statusParams('accepted'));
      assert.equal(again.status, 409, text(again.body));
    });

    it('a handover to an organisation that does not offer eOverdracht is refused', async () => {
      const r = await hospital.call<OperationOutcome>('POST', '/workflow/handovers', { exchange: 'eoverdracht', receiver: FYSIO, patient: DE_GROOT.bsn, inputs: story.inputs });
      assert.equal(r.status, 422, text(r.body));
      assert.equal(r.body.resourceType, 'OperationOutcome');
      assert.match(text(r.body), /does not take part in eoverdracht/);
      // Posted straight at its node, the notification is refused there as well.
      const identity = sandbox.identities.participants.get(VELUWE)!;
      const fysio = sandbox.manifest.participants.find((p) => p.ura === FYSIO)!.nodeUrl!;
      const tokens = new TrustTokenProvider({ tls: identity, ura: VELUWE, tokenEndpoint: `${new URL(fysio).origin}/oauth/token` });
      const client = new PartClient({ tls: identity, tokens, maxRetries: 0 });
      try {
        const veluweNode = sandbox.manifest.participants.find((p) => p.ura === VELUWE)!.nodeUrl!;
        const direct = await client.call<OperationOutcome>(`${fysio}/fhir/Task`, {
          method: 'POST',
          body: notificationTask({ senderUra: VELUWE, receiverUra: FYSIO, exchange: 'eoverdracht', taskUrl: `${veluweNode}/fhir/Task/${sent.id}` }),
          scope: 'eoverdracht-notification',
          resource: fysio,
        });
        assert.equal(direct.status, 422, text(direct.body));
        assert.match(text(direct.body), /does not receive eoverdracht/);
      } finally {
        await client.close();
        await tokens.close?.();
      }
      // Unknown receivers and malformed requests get an OperationOutcome, never a 500.
      const unknown = await hospital.call<OperationOutcome>('POST', '/workflow/handovers', { exchange: 'eoverdracht', receiver: '12345678', patient: DE_GROOT.bsn, inputs: story.inputs });
      assert.equal(unknown.status, 422, text(unknown.body));
      const malformed = await hospital.call<OperationOutcome>('POST', '/workflow/handovers', { exchange: 'eoverdracht', receiver: THUISZORG, patient: DE_GROOT.bsn, inputs: ['../etc'] });
      assert.equal(malformed.status, 400, text(malformed.body));
    });

    it('the receiver down when notified: delivered once when it returns; a duplicated notification is one handover', async () => {
      const zuid = sandbox.nodes.find((n) => n.name === 'zuid')!;
      const veluwe = sandbox.nodes.find((n) => n.name === 'veluwe')!;
      const server = zuid.service.app.server;
      const { port, address } = server.address() as import('node:net').AddressInfo;
      const before = (await inbox(homeCare)).length;
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      try {
        const r = await hospital.call<Task>('POST', '/workflow/handovers', { exchange: 'eoverdracht', receiver: THUISZORG, patient: DE_GROOT.bsn, inputs: story.inputs, note: 'Tweede overdracht (wondzorg)' });
        assert.equal(r.status, 201, text(r.body));
        second = r.body;
        assert.equal(second.businessStatus?.coding?.[0]?.code, 'pending', second.businessStatus?.text);
      } finally {
        await new Promise<void>((resolve, reject) => server.listen(port, address, () => resolve()).once('error', reject));
      }
      // The outbox retries with backoff; wait for its next attempt.
      const deadline = Date.now() + 60_000;
      for (;;) {
        await veluwe.runtime()!.workflow.deliverDue();
        const seen = await hospital.call<Task>('GET', `/workflow/handovers/${second.id}`);
        if (seen.body.businessStatus?.coding?.[0]?.code === 'delivered') break;
        assert.ok(Date.now() < deadline, `not delivered: ${seen.body.businessStatus?.text}`);
        await new Promise((r) => setTimeout(r, 1000));
      }
      const notes = await inbox(homeCare);
      assert.equal(notes.length, before + 1);
      // The same notification again (a lost answer, a resend): still one handover.
      const identity = sandbox.identities.participants.get(VELUWE)!;
      const receiverNode = sandbox.manifest.participants.find((p) => p.ura === THUISZORG)!.nodeUrl!;
      const tokens = new TrustTokenProvider({ tls: identity, ura: VELUWE, tokenEndpoint: `${new URL(receiverNode).origin}/oauth/token` });
      const client = new PartClient({ tls: identity, tokens, maxRetries: 0 });
      try {
        const veluweNode = sandbox.manifest.participants.find((p) => p.ura === VELUWE)!.nodeUrl!;
        const dup = await client.call<Task>(`${receiverNode}/fhir/Task`, {
          method: 'POST',
          body: notificationTask({ senderUra: VELUWE, receiverUra: THUISZORG, exchange: 'eoverdracht', taskUrl: `${veluweNode}/fhir/Task/${second.id}` }),
          scope: 'eoverdracht-notification',
          resource: receiverNode,
        });
        assert.equal(dup.status, 200, text(dup.body));
      } finally {
        await client.close();
        await tokens.close?.();
      }
      assert.equal((await inbox(homeCare)).length, before + 1);
    });

    it('a token is good for the one workflow Task it was granted for, never another', async () => {
      const identity = sandbox.identities.participants.get(THUISZORG)!;
      const node = sandbox.manifest.participants.find((p) => p.ura === VELUWE)!.nodeUrl!;
      const tokens = new TrustTokenProvider({ tls: identity, ura: THUISZORG, tokenEndpoint: `${new URL(node).origin}/oauth/token` });
      const client = new PartClient({ tls: identity, tokens, maxRetries: 0, defaultDeadlineMs: 30_000 });
      const verklaring = await clinicianVerklaring(sandbox, JANSSEN);
      const underSecond = { scope: 'eoverdracht', resource: node, userAssertion: verklaring, authorizationDetails: [workflowTaskDetail(second.id!, node)] };
      try {
        const own = await client.call<Task>(`${node}/fhir/Task/${second.id}`, underSecond);
        assert.equal(own.status, 200, text(own.body));
        assert.equal(own.body.id, second.id);
        const other = await client.call<OperationOutcome>(`${node}/fhir/Task/${sent.id}`, underSecond);
        assert.equal(other.status, 403, text(other.body));
        assert.match(text(other.body), new RegExp(`granted for workflow Task ${second.id}, not for ${sent.id}`));
        const update = await client.call<OperationOutcome>(`${node}/fhir/Task/${sent.id}/$status`, { ...underSecond, method: 'POST', body: statusParams('in-progress') });
        assert.equal(update.status, 403, text(update.body));
        const audited = await auditEntries(sandbox, 'veluwe', `Task/${sent.id} (workflow Task ${sent.id})`);
        assert.ok(audited.some((e) => e.includes(`granted for workflow Task ${second.id}`)), 'refusal audited');
      } finally {
        await client.close();
        await tokens.close?.();
      }
      // Another organisation (the sending hospital itself, whose nurse may request eoverdracht)
      // gets no token naming Thuiszorg's Task.
      const veluweIdentity = sandbox.identities.participants.get(VELUWE)!;
      const veluweTokens = new TrustTokenProvider({ tls: veluweIdentity, ura: VELUWE, tokenEndpoint: `${new URL(node).origin}/oauth/token` });
      try {
        const visser = await clinicianVerklaring(sandbox, VISSER);
        await assert.rejects(veluweTokens.token(node, 'eoverdracht', { userAssertion: visser, authorizationDetails: [workflowTaskDetail(second.id!, node)] }), (e: unknown) =>
          e instanceof TokenRequestError && e.error === 'invalid_authorization_details' && e.description.includes(`addressed to ${VELUWE}`),
        );
      } finally {
        await veluweTokens.close?.();
      }
    });
  });

  // Every exchange of the agreements works end to end or is marked as not offered: the two
  // pull-by-search exchanges without a test elsewhere, for De Groot (explicit consent on record).
  describe('the other search exchanges: BgZ and the International Patient Summary', () => {
    for (const exchange of ['bgz', 'ips']) {
      it(`${exchange}: a hospital physician gets De Groot's data from the holders`, async () => {
        const verklaring = await clinicianVerklaring(sandbox, '900001012'); // M. van Dijk, Ziekenhuis Veluwe
        const r = await apiOverview(sandbox, { ura: VELUWE, verklaring, bsn: DE_GROOT.bsn, exchange });
        assert.equal(r.status, 200, text(r.body));
        const b = r.body as unknown as Bundle;
        const items = (b.entry ?? []).map((e) => e.resource!).filter((x) => x.resourceType !== 'OperationOutcome' && x.resourceType !== 'Patient' && x.resourceType !== 'Provenance');
        assert.ok(items.some((x) => /Ziekenhuis Leiden/.test(JSON.stringify(x))), `data from Leiden: ${text(refusals(b))}`);
        assert.ok(items.some((x) => /Huisartsenpraktijk Kerkrade/.test(JSON.stringify(x))), `data from the GP: ${text(refusals(b))}`);
      });
    }
  });

  describe('medicatieoverdracht: the GP in Kerkrade prescribes, Apotheek Kerkrade dispenses', () => {
    const story = deGrootPrescription();
    let gp: WorkflowCaller;
    let pharmacy: WorkflowCaller;
    let sent: Task;
    let notificationId: string;
    before(async () => {
      gp = await workflowCaller(sandbox, GP, HENDRIKS, 'medicatieoverdracht');
      pharmacy = await workflowCaller(sandbox, PHARMACY, PETERS, 'medicatieoverdracht');
    });
    after(async () => {
      await gp?.close();
      await pharmacy?.close();
    });

    it('the GP sends the medication agreement and dispense request to the pharmacy', async () => {
      await recordInEhr(sandbox, GP, story.resources);
      const r = await gp.call<Task>('POST', '/workflow/handovers', { exchange: 'medicatieoverdracht', receiver: PHARMACY, patient: DE_GROOT.bsn, inputs: story.inputs });
      assert.equal(r.status, 201, text(r.body));
      sent = r.body;
      assert.equal(sent.businessStatus?.coding?.[0]?.code, 'delivered', sent.businessStatus?.text);
      const notes = await inbox(pharmacy);
      assert.equal(notes.length, 1);
      notificationId = notes[0].id!;
      // Only an agreement and a dispense request of one treatment make a prescription.
      const half = await gp.call<OperationOutcome>('POST', '/workflow/handovers', { exchange: 'medicatieoverdracht', receiver: PHARMACY, patient: DE_GROOT.bsn, inputs: story.inputs.slice(0, 1) });
      assert.equal(half.status, 422, text(half.body));
      // Another patient's BSN with De Groot's prescription: refused before any Task exists.
      const other = await gp.call<OperationOutcome>('POST', '/workflow/handovers', { exchange: 'medicatieoverdracht', receiver: PHARMACY, patient: CITIZENS[2].bsn, inputs: story.inputs });
      assert.ok([422].includes(other.status), text(other.body));
    });

    it('the pharmacy accepts and dispenses; the GP sees the dispense on the completed Task', async () => {
      const accepted = await pharmacy.call<Task>('POST', `/workflow/inbox/${notificationId}/$status`, statusParams('accepted'));
      assert.equal(accepted.status, 200, text(accepted.body));
      const r = await pharmacy.call<Bundle>('POST', `/workflow/inbox/${notificationId}/$dispense`);
      assert.equal(r.status, 200, text(r.body));
      const task = r.body.entry?.[0]?.resource as Task;
      const dispense = r.body.entry?.[1]?.resource as MedicationDispense;
      assert.equal(task.status, 'completed');
      assert.equal(dispense.resourceType, 'MedicationDispense');
      const treatment = dispense.extension?.find((e) => e.url === MP9.treatmentExtension)?.valueIdentifier;
      assert.deepEqual(treatment, story.treatment);
      const seen = await gp.call<Task>('GET', `/workflow/handovers/${sent.id}`);
      assert.equal(seen.body.status, 'completed');
      assert.match(seen.body.output?.[0]?.valueReference?.reference ?? '', new RegExp(`/org/${PHARMACY}/fhir/MedicationDispense/${dispense.id}$`));
      // After completion the prescription can no longer be pulled.
      const late = await pharmacy.call<Bundle>('GET', `/workflow/inbox/${notificationId}/$pull`);
      assert.match(text(refusals(late.body)), /completed, not active/);
    });

    it("the dispense is in the GP's next acute-care overview, merged with the prescription", async () => {
      const verklaring = await clinicianVerklaring(sandbox, HENDRIKS);
      for (const n of sandbox.nodes) await n.runtime()?.referralSync?.runOnce();
      const r = await apiOverview(sandbox, { ura: GP, verklaring, bsn: DE_GROOT.bsn });
      assert.equal(r.status, 200, text(r.body));
      // One clopidogrel item: the GP's prescription and the pharmacy's dispense as its sources.
      const items = ((r.body as unknown as Bundle).entry ?? []).map((e) => e.resource).filter((x) => x?.resourceType.startsWith('Medication') && /B01AC04/.test(JSON.stringify(x)));
      assert.equal(items.length, 1, text(items).slice(0, 1500));
      const sources = text(items[0]?.meta);
      for (const holder of [GP, PHARMACY]) assert.match(text(items[0]), new RegExp(holder), `sources: ${sources}`);
    });

    it("the GP's stop of the medication agreement supersedes it in the next overview", async () => {
      await recordInEhr(sandbox, GP, [stopAgreement(story.agreement, new Date().toISOString(), `${story.agreement.id}-stop`)]);
      const verklaring = await clinicianVerklaring(sandbox, HENDRIKS);
      const r = await apiOverview(sandbox, { ura: GP, verklaring, bsn: DE_GROOT.bsn });
      assert.equal(r.status, 200, text(r.body));
      const items = ((r.body as unknown as Bundle).entry ?? []).map((e) => e.resource).filter((x) => x?.resourceType.startsWith('Medication') && /B01AC04/.test(JSON.stringify(x)));
      assert.equal(items.length, 1, text(items).slice(0, 1500));
      assert.equal((items[0] as { status?: string }).status, 'stopped');
    });
  });
});
