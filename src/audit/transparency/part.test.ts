import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { AuditEvent, Bundle } from '@medplum/fhirtypes';
import type { JWK } from 'jose';
import pino from 'pino';
import { PartClient } from '../../kit/http/client.ts';
import { createService, type RunningService } from '../../kit/http/service.ts';
import { testBsn } from '../../kit/identifiers/bsn.ts';
import { migrate } from '../../kit/store/migrate.ts';
import { openIsolatedPgliteStore } from '../../kit/store/pglite.ts';
import type { Store } from '../../kit/store/store.ts';
import { createTestPki, staticNetwork } from '../../kit/testing/test-pki.ts';
import { defaultAgreements } from '../../trust/agreements/default-agreements.ts';
import { appendAuditEvent, auditLogMigrations } from '../chain.ts';
import { buildAuditEvent } from '../event.ts';
import { deliverOutbox, transparencySender } from '../outbox.ts';
import { sampleInput } from '../test-fixtures.ts';
import type { ConsistencyProof, InclusionProof } from './log-store.ts';
import { createTransparencyPart } from './part.ts';
import { type SignedTreeHead, verifyConsistencyProof, verifyInclusionProof, verifySignedTreeHead } from './tree-head.ts';

// End to end over mutual TLS: a node's outbox delivers to the transparency part (which was
// down at first), proofs verify against the signed head, and the citizen sees their accesses.

describe('transparency part', () => {
  let svc: RunningService;
  let node: Store;
  let client: PartClient;
  let citizenClient: PartClient;
  let caPem = '';
  const logLines: string[] = [];
  const bsn = testBsn(4242);
  const showNames = defaultAgreements().exchanges.find((x) => x.showProfessionalNameToCitizen)?.code;
  const hideNames = defaultAgreements().exchanges.find((x) => !x.showProfessionalNameToCitizen)?.code;

  before(async () => {
    const pki = await createTestPki();
    caPem = pki.ca.certPem;
    const part = createTransparencyPart({
      treeHeadIntervalMs: 60_000,
      agreements: defaultAgreements,
      organizationName: (ura) => (ura === '90000101' ? 'Ziekenhuis Veluwe' : undefined),
      // Test authenticator: the portal's header stands in for the citizen login + PRS lookup.
      citizen: async (req) => {
        const p = req.headers['x-test-citizen'];
        return typeof p === 'string' ? { pseudonym: p } : undefined;
      },
    });
    const store = await openIsolatedPgliteStore('transparency');
    await migrate(store, part.migrations);
    const log = pino({ level: 'debug' }, { write: (s: string) => void logLines.push(s) });
    svc = await createService(part, { tls: await pki.identity('90000900', { name: 'transparency' }), network: staticNetwork({}), store, log });
    client = new PartClient({ tls: await pki.identity('90000101'), maxRetries: 0, defaultDeadlineMs: 3000 });
    citizenClient = new PartClient({ tls: await pki.identity('90000950', { name: 'portal' }), maxRetries: 0 });
    node = await openIsolatedPgliteStore('node_veluwe');
    await migrate(node, auditLogMigrations);
  });
  after(async () => {
    await client.close();
    await citizenClient.close();
    await svc.close();
    await svc.store.close();
    await node.close();
  });

  it('loses no event while the part is down, then delivers each once', async () => {
    const events = [
      { id: 'a1', exchange: showNames, emergencyReason: undefined, pseudonym: 'tp-degroot' },
      { id: 'a2', exchange: hideNames, emergencyReason: 'patient unconscious', pseudonym: 'tp-degroot' },
      { id: 'a3', exchange: showNames, emergencyReason: undefined, pseudonym: 'tp-other' },
    ];
    for (const e of events) {
      const input = sampleInput({
        id: e.id,
        what: { ...sampleInput().what, exchange: e.exchange ?? 'bgz', query: `Patient?identifier=x|${bsn}` },
        patient: { localReference: 'Patient/p1', transparencyPseudonym: e.pseudonym },
        why: { purposeOfUse: e.emergencyReason ? 'ETREAT' : 'TREAT', emergencyReason: e.emergencyReason },
      });
      await appendAuditEvent(node, buildAuditEvent(input), { outbox: true });
    }
    const down = transparencySender(client, 'https://127.0.0.1:1');
    assert.equal((await deliverOutbox(node, down)).failed, 1);
    const up = transparencySender(client, svc.url);
    await node.query('UPDATE audit_outbox SET next_attempt_at = now()');
    const pass = await deliverOutbox(node, up);
    assert.deepEqual(pass, { delivered: 3, failed: 0, pending: 0 });
    // A re-send (lost acknowledgement) is accepted without a second leaf.
    const again = await client.call(`${svc.url}/AuditEvent`, { method: 'POST', body: JSON.parse((await svc.store.query<{ body: string }>("SELECT body FROM tlog_entry WHERE event_id = 'a1'"))[0].body) });
    assert.equal(again.status, 200);
    assert.equal(again.headers['x-leaf-index'], '0');
    const [{ n }] = await svc.store.query<{ n: number }>('SELECT count(*)::int AS n FROM tlog_entry');
    assert.equal(n, 3);
  });

  it('refuses events without pseudonym or with a BSN, and callers without a certificate', async () => {
    const noPseudonym = buildAuditEvent(sampleInput({ id: 'b1', patient: { localReference: 'Patient/p1' } }));
    assert.equal((await client.call(`${svc.url}/AuditEvent`, { method: 'POST', body: noPseudonym })).status, 422);
    const withBsn = { ...buildAuditEvent(sampleInput({ id: 'b2' })), outcomeDesc: `lookup ${bsn}` } as AuditEvent;
    assert.equal((await client.call(`${svc.url}/AuditEvent`, { method: 'POST', body: withBsn })).status, 422);
    const bare = new PartClient({ tls: { cert: '', key: '', ca: caPem }, maxRetries: 0 });
    try {
      const e = buildAuditEvent(sampleInput({ id: 'b3' }));
      assert.equal((await bare.call(`${svc.url}/AuditEvent`, { method: 'POST', body: e })).status, 401);
    } finally {
      await bare.close();
    }
  });

  it('serves a signed tree head and proofs that verify with the published key', async () => {
    const jwks = (await client.json<{ keys: JWK[] }>(`${svc.url}/.well-known/jwks.json`)).keys[0];
    const head = await client.json<SignedTreeHead>(`${svc.url}/tree-head`);
    assert.equal(head.treeSize, 3);
    await verifySignedTreeHead(head, jwks);
    await assert.rejects(verifySignedTreeHead({ ...head, treeSize: 2 }, jwks));
    const proof = await client.json<InclusionProof>(`${svc.url}/proof/inclusion?id=a2`);
    const [{ body }] = await svc.store.query<{ body: string }>("SELECT body FROM tlog_entry WHERE event_id = 'a2'");
    assert.ok(verifyInclusionProof(proof, body, head));
    assert.equal((await client.call(`${svc.url}/proof/inclusion?id=nope`)).status, 404);
    assert.equal((await client.call(`${svc.url}/proof/inclusion?index=9&size=3`)).status, 400);

    // Grow the log; the new head must extend the old one.
    const e = buildAuditEvent(sampleInput({ id: 'a4', patient: { transparencyPseudonym: 'tp-x' } }));
    assert.equal((await client.call(`${svc.url}/AuditEvent`, { method: 'POST', body: e })).status, 201);
    await new Promise((r) => setTimeout(r, 1100)); // on-demand signing is limited to once a second
    const later = await client.json<SignedTreeHead>(`${svc.url}/tree-head`);
    assert.equal(later.treeSize, 4);
    const cp = await client.json<ConsistencyProof>(`${svc.url}/proof/consistency?first=3&second=4`);
    assert.ok(verifyConsistencyProof(cp, head, later));
    assert.equal((await client.call(`${svc.url}/proof/consistency?first=0&second=4`)).status, 400);
  });

  it('shows the citizen their accesses only, with names only where the agreements allow', async () => {
    assert.equal((await citizenClient.call(`${svc.url}/AuditEvent?patient=tp-degroot`)).status, 401);
    const other = await citizenClient.call(`${svc.url}/AuditEvent?patient=tp-degroot`, { headers: { 'x-test-citizen': 'tp-other' } });
    assert.equal(other.status, 403);
    const bundle = await citizenClient.json<Bundle<AuditEvent>>(`${svc.url}/AuditEvent?patient=tp-degroot`, {
      headers: { 'x-test-citizen': 'tp-degroot' },
    });
    assert.equal(bundle.total, 2);
    const [newest, oldest] = bundle.entry!.map((x) => x.resource!);
    assert.equal(newest.id, 'a2');
    assert.ok(newest.purposeOfEvent?.[0].coding?.some((c) => c.code === 'BTG'));
    assert.equal(newest.agent?.[0].who?.display, 'Ziekenhuis Veluwe');
    assert.equal(newest.agent?.[1].role?.[0].coding?.[0].code, '01.045');
    assert.equal(newest.agent?.[1].who, undefined, 'name hidden for this exchange');
    assert.equal(oldest.agent?.[1].who?.display, 'A. Bakker', 'name shown where allowed');
    const text = JSON.stringify(bundle);
    assert.ok(!text.includes('900001011'), 'no professional number');
    assert.ok(!text.includes('Patient/p1'), 'no local reference');
  });

  it('no BSN in the transparency store, the node store or the log output', async () => {
    const dump = JSON.stringify([
      await svc.store.query('SELECT * FROM tlog_entry'),
      await node.query('SELECT * FROM audit_log'),
      await node.query('SELECT * FROM audit_outbox'),
    ]);
    assert.ok(dump.length > 1000);
    assert.ok(!dump.includes(bsn));
    assert.ok(!logLines.join('\n').includes(bsn));
  });
});
