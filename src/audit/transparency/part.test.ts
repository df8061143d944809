import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { AuditEvent, Bundle } from '@medplum/fhirtypes';
import type { JWK } from 'jose';
import pino from 'pino';
import { PartClient } from '../../kit/http/client.ts';
import { testBsn } from '../../kit/identifiers/bsn.ts';
import { SYSTEM } from '../../kit/identifiers/systems.ts';
import { openIsolatedPgliteStore } from '../../kit/store/pglite.ts';
import { migrate } from '../../kit/store/migrate.ts';
import type { Store } from '../../kit/store/store.ts';
import { sealEvaluation } from '../../pseudonyms/evaluation-token.ts';
import { recipientKeyLookup } from '../../pseudonyms/recipient-keys.ts';
import { encodePseudonymToken } from '../../pseudonyms/nvi-identifier.ts';
import { OPERATOR } from '../../sandbox/cast.ts';
import { defaultAgreements } from '../../trust/agreements/default-agreements.ts';
import { appendAuditEvent, auditLogMigrations } from '../chain.ts';
import { type AuditEventInput, buildAuditEvent } from '../event.ts';
import { deliverOutbox, transparencySender } from '../outbox.ts';
import { SAMPLE_PSEUDONYM_TOKEN, sampleInput } from '../test-fixtures.ts';
import { AUDIT_EXTENSION, AUDIT_SYSTEM } from '../uris.ts';
import type { ConsistencyProof, InclusionProof } from './log-store.ts';
import { TRANSPARENCY_RECIPIENT_SCOPE } from './recipient-keys.ts';
import { type Participant, startTransparencyNetwork, type TransparencyTestNetwork } from './test-network.ts';
import { type SignedTreeHead, verifyConsistencyProof, verifyInclusionProof, verifySignedTreeHead } from './tree-head.ts';

// End to end over mutual TLS with a real PRS and real access tokens: two nodes (different URAs)
// name the same citizen by PRS tokens addressed to the transparency part; the part stores one
// stable pseudonym; the portal (operator certificate) sees both accesses, nobody else can ask.

describe('transparency part', () => {
  let net: TransparencyTestNetwork;
  let veluwe: Participant;
  let huisarts: Participant;
  let portal: Participant;
  let node: Store;
  let url = '';
  const logLines: string[] = [];
  const tokensSeen: string[] = [];
  const bsn = testBsn(4242);
  const otherBsn = testBsn(4343);
  const showNames = defaultAgreements().exchanges.find((x) => x.showProfessionalNameToCitizen)?.code;
  const hideNames = defaultAgreements().exchanges.find((x) => !x.showProfessionalNameToCitizen)?.code;
  const post = (p: Participant, body: unknown) => p.client.call(`${url}/AuditEvent`, { method: 'POST', body, scope: 'transparency:write' });
  const token = async (p: Participant, b: string) => {
    const t = await p.token(b);
    tokensSeen.push(t);
    return t;
  };
  const citizenView = async (p: Participant, b: string) =>
    p.client.call<Bundle<AuditEvent>>(`${url}/AuditEvent?patient-token=${await token(p, b)}`);

  before(async () => {
    const log = pino({ level: 'debug' }, { write: (s: string) => void logLines.push(s) });
    net = await startTransparencyNetwork(
      { agreements: defaultAgreements, organizationName: (ura) => (ura === '90000101' ? 'Ziekenhuis Veluwe' : undefined) },
      log,
    );
    url = net.transparency.url;
    veluwe = await net.participant('90000101');
    huisarts = await net.participant('90000102');
    portal = await net.participant(OPERATOR.ura, 'portal');
    node = await openIsolatedPgliteStore('node_veluwe');
    await migrate(node, auditLogMigrations);
  });
  after(async () => {
    await node?.close();
    await net?.close();
  });

  it('announces itself as a PRS recipient and has its key registered at the PRS', async () => {
    const r = await veluwe.client.json<{ recipientOrganization: string; recipientScope: string }>(`${url}/.well-known/pseudonym-recipient`);
    assert.deepEqual(r, { recipientOrganization: `ura:${OPERATOR.ura}`, recipientScope: TRANSPARENCY_RECIPIENT_SCOPE });
    const rows = await net.prs.store.query('SELECT recipient, scope FROM recipient_keys');
    assert.deepEqual(rows, [{ recipient: `ura:${OPERATOR.ura}`, scope: TRANSPARENCY_RECIPIENT_SCOPE }]);
  });

  it('loses no event while the part is down, then delivers each once (node outbox, real tokens)', async () => {
    const events = [
      { id: 'a1', exchange: showNames, emergencyReason: undefined, bsn },
      { id: 'a2', exchange: hideNames, emergencyReason: 'patient unconscious', bsn },
      { id: 'a3', exchange: showNames, emergencyReason: undefined, bsn: otherBsn },
    ];
    for (const e of events) {
      const input = sampleInput({
        id: e.id,
        what: { ...sampleInput().what, exchange: e.exchange ?? 'bgz', query: `Patient?identifier=x|${e.bsn}` },
        patient: { localReference: 'Patient/p1', transparencyPseudonymToken: await token(veluwe, e.bsn) },
        why: { purposeOfUse: e.emergencyReason ? 'ETREAT' : 'TREAT', emergencyReason: e.emergencyReason },
      });
      await appendAuditEvent(node, buildAuditEvent(input), { outbox: true });
    }
    const down = transparencySender(veluwe.client, 'https://127.0.0.1:1');
    assert.equal((await deliverOutbox(node, down)).failed, 1);
    await node.query('UPDATE audit_outbox SET next_attempt_at = now()');
    assert.deepEqual(await deliverOutbox(node, transparencySender(veluwe.client, url)), { delivered: 3, failed: 0, rejected: 0, pending: 0 });
    // A re-send (lost acknowledgement) is accepted without a second leaf.
    const again = await post(veluwe, buildAuditEvent(sampleInput({ id: 'a1', patient: { transparencyPseudonymToken: await token(veluwe, bsn) } })));
    assert.equal(again.status, 200);
    assert.equal(again.headers['x-leaf-index'], '0');
    const rows = await net.transparency.store.query<{ pseudonym: string; source_ura: string }>('SELECT pseudonym, source_ura FROM tlog_entry ORDER BY idx');
    assert.equal(rows.length, 3);
    assert.equal(rows[0].pseudonym, rows[1].pseudonym, 'one stable pseudonym per citizen');
    assert.notEqual(rows[0].pseudonym, rows[2].pseudonym);
    assert.equal(rows[0].source_ura, '90000101');
  });

  it('a second node (other URA) logs the same citizen under the same pseudonym', async () => {
    const e = buildAuditEvent(
      sampleInput({
        id: 'h1',
        who: { ...sampleInput().who, organizationUra: '90000102', clientId: 'huisarts', professionalName: 'B. de Vries' },
        what: { ...sampleInput().what, exchange: showNames ?? 'bgz' },
        patient: { transparencyPseudonymToken: await token(huisarts, bsn) },
      }),
    );
    const r = await post(huisarts, e);
    assert.equal(r.status, 201);
    const rows = await net.transparency.store.query<{ pseudonym: string; event_id: string }>("SELECT pseudonym, event_id FROM tlog_entry WHERE event_id IN ('a1','h1')");
    assert.equal(rows.length, 2);
    assert.equal(rows[0].pseudonym, rows[1].pseudonym);
  });

  it('refuses forged, expired, mis-addressed and clear pseudonyms (422), and callers without certificate or token (401)', async () => {
    const base = (id: string, patient: AuditEventInput['patient']) => buildAuditEvent(sampleInput({ id, patient }));
    assert.equal((await post(veluwe, base('f1', { transparencyPseudonymToken: SAMPLE_PSEUDONYM_TOKEN }))).status, 422, 'forged');
    assert.equal((await post(veluwe, base('f2', { transparencyPseudonym: 'tp-degroot' }))).status, 422, 'clear pseudonym');
    assert.equal((await post(veluwe, base('f3', { localReference: 'Patient/p1' }))).status, 422, 'no patient token');
    // Tokens sealed with the part's real public key (as the PRS would), but expired or for someone else.
    const registered = await recipientKeyLookup(net.prs.store)(`ura:${OPERATOR.ura}`, TRANSPARENCY_RECIPIENT_SCOPE);
    assert.ok(registered, 'the transparency part registered its JWE key at the PRS');
    const { key } = registered;
    const sealed = async (to: { org: string; scope: string }, now = Date.now()) =>
      encodePseudonymToken({
        evaluatedOutput: await sealEvaluation([{ version: 1, evaluated: randomBytes(32) }], { recipientOrganization: to.org, recipientScope: to.scope, key }, { now }),
        blindFactor: randomBytes(32),
      });
    const expired = await sealed({ org: `ura:${OPERATOR.ura}`, scope: TRANSPARENCY_RECIPIENT_SCOPE }, Date.now() - 3600_000);
    const r1 = await post(veluwe, base('f4', { transparencyPseudonymToken: expired }));
    assert.equal(r1.status, 422);
    assert.match(r1.text, /expired/);
    const misaddressed = await sealed({ org: 'ura:90000102', scope: TRANSPARENCY_RECIPIENT_SCOPE });
    assert.match((await post(veluwe, base('f5', { transparencyPseudonymToken: misaddressed }))).text, /another recipient/);
    const otherScope = await sealed({ org: `ura:${OPERATOR.ura}`, scope: 'nationale-verwijsindex' });
    assert.equal((await post(veluwe, base('f6', { transparencyPseudonymToken: otherScope }))).status, 422);
    const withBsn = { ...buildAuditEvent(sampleInput({ id: 'f7', patient: { transparencyPseudonymToken: await token(veluwe, bsn) } })), outcomeDesc: `lookup ${bsn}` } as AuditEvent;
    assert.equal((await post(veluwe, withBsn)).status, 422, 'BSN in free text');
    const [{ n }] = await net.transparency.store.query<{ n: number }>("SELECT count(*)::int AS n FROM tlog_entry WHERE event_id LIKE 'f%'");
    assert.equal(n, 0);

    const good = buildAuditEvent(sampleInput({ id: 'f8', patient: { transparencyPseudonymToken: await token(veluwe, bsn) } }));
    const noToken = await veluwe.client.call(`${url}/AuditEvent`, { method: 'POST', body: good });
    assert.equal(noToken.status, 401, 'transparency:write token required');
    const bare = new PartClient({ tls: { cert: '', key: '', ca: net.pki.ca.certPem }, maxRetries: 0 });
    try {
      assert.equal((await bare.call(`${url}/AuditEvent`, { method: 'POST', body: good })).status, 401);
    } finally {
      await bare.close();
    }
  });

  it('serves a signed tree head and proofs that verify with the published key', async () => {
    const jwks = (await veluwe.client.json<{ keys: JWK[] }>(`${url}/.well-known/jwks.json`)).keys[0];
    const head = await veluwe.client.json<SignedTreeHead>(`${url}/tree-head`);
    assert.equal(head.treeSize, 4);
    await verifySignedTreeHead(head, jwks);
    await assert.rejects(verifySignedTreeHead({ ...head, treeSize: 2 }, jwks));
    const proof = await veluwe.client.json<InclusionProof>(`${url}/proof/inclusion?id=a2`);
    const [{ body }] = await net.transparency.store.query<{ body: string }>("SELECT body FROM tlog_entry WHERE event_id = 'a2'");
    assert.ok(verifyInclusionProof(proof, body, head));
    assert.equal((await veluwe.client.call(`${url}/proof/inclusion?id=nope`)).status, 404);
    assert.equal((await veluwe.client.call(`${url}/proof/inclusion?index=9&size=4`)).status, 400);

    const e = buildAuditEvent(sampleInput({ id: 'a4', patient: { transparencyPseudonymToken: await token(veluwe, testBsn(99)) } }));
    assert.equal((await post(veluwe, e)).status, 201);
    await new Promise((r) => setTimeout(r, 1100)); // on-demand signing is limited to once a second
    const later = await veluwe.client.json<SignedTreeHead>(`${url}/tree-head`);
    assert.equal(later.treeSize, 5);
    const cp = await veluwe.client.json<ConsistencyProof>(`${url}/proof/consistency?first=4&second=5`);
    assert.ok(verifyConsistencyProof(cp, head, later));
    assert.equal((await veluwe.client.call(`${url}/proof/consistency?first=0&second=5`)).status, 400);
  });

  it('shows the portal one citizen’s accesses from both nodes, with proof links, names only where allowed', async () => {
    const res = await citizenView(portal, bsn);
    assert.equal(res.status, 200);
    const bundle = res.body;
    assert.equal(bundle.total, 3);
    const events = bundle.entry!.map((x) => x.resource!);
    assert.deepEqual(events.map((e) => e.id), ['h1', 'a2', 'a1']);
    assert.deepEqual([...new Set(events.map((e) => e.agent?.[0].who?.identifier?.value))].sort(), ['90000101', '90000102']);
    const [, newest, oldest] = events;
    assert.ok(newest.purposeOfEvent?.[0].coding?.some((c) => c.code === 'BTG'));
    assert.equal(newest.agent?.[0].who?.display, 'Ziekenhuis Veluwe');
    assert.equal(newest.agent?.[1].role?.[0].coding?.[0].code, '01.045');
    assert.equal(newest.agent?.[1].who, undefined, 'name hidden for this exchange');
    assert.equal(oldest.agent?.[1].who?.display, 'A. Bakker', 'name shown where allowed');
    // Each entry says where it sits in the log and where its inclusion proof is.
    const head = await portal.client.json<SignedTreeHead>(`${url}/tree-head`);
    for (const entry of bundle.entry!) {
      const leafIndex = entry.resource!.extension?.find((x) => x.url === AUDIT_EXTENSION.leafIndex)?.valueInteger;
      const link = entry.link?.find((l) => l.relation === 'inclusion-proof')?.url;
      assert.ok(link?.startsWith(`${url}/proof/inclusion?id=`));
      const proof = await portal.client.json<InclusionProof>(`${link}&size=${head.treeSize}`);
      assert.equal(proof.leafIndex, leafIndex);
      const [{ body }] = await net.transparency.store.query<{ body: string }>('SELECT body FROM tlog_entry WHERE event_id = $1', [entry.resource!.id]);
      assert.ok(verifyInclusionProof(proof, body, head));
    }
    const text = JSON.stringify(bundle);
    assert.ok(!text.includes('900001011'), 'no professional number');
    assert.ok(!text.includes('Patient/p1'), 'no local reference');
    assert.ok(!text.includes(SYSTEM.transparencyPseudonym), 'no pseudonym in the answer');
    assert.ok(!text.includes('patient-token'), 'links do not repeat the token');
  });

  it('another citizen sees neither of those; a non-portal certificate is refused; bad tokens are refused', async () => {
    const other = (await citizenView(portal, otherBsn)).body;
    assert.deepEqual(other.entry?.map((x) => x.resource?.id), ['a3']);
    const nobody = (await citizenView(portal, testBsn(5555))).body;
    assert.equal(nobody.total, 0);
    assert.equal((await citizenView(veluwe, bsn)).status, 403, 'a node is not the portal');
    assert.equal((await portal.client.call(`${url}/AuditEvent`)).status, 401, 'no citizen named');
    assert.equal((await portal.client.call(`${url}/AuditEvent?patient-token=${SAMPLE_PSEUDONYM_TOKEN}`)).status, 422);
    // The stable pseudonym of someone else cannot be asked for with one's own token.
    const [{ pseudonym }] = await net.transparency.store.query<{ pseudonym: string }>("SELECT pseudonym FROM tlog_entry WHERE event_id = 'a1'");
    const cross = await portal.client.call(`${url}/AuditEvent?patient-token=${await token(portal, otherBsn)}&patient=${encodeURIComponent(pseudonym)}`);
    assert.equal(cross.status, 403);
  });

  it('no BSN and no PRS token in the transparency store, the node chain or the log output', async () => {
    const dump = JSON.stringify([
      await net.transparency.store.query('SELECT * FROM tlog_entry'),
      await net.transparency.store.query('SELECT * FROM tlog_head'),
      await node.query('SELECT * FROM audit_log'),
    ]);
    assert.ok(dump.length > 1000);
    const logs = logLines.join('\n');
    assert.ok(tokensSeen.length >= 8);
    for (const b of [bsn, otherBsn]) {
      assert.ok(!dump.includes(b), 'BSN in a store');
      assert.ok(!logs.includes(b), 'BSN in the logs');
    }
    for (const t of tokensSeen) {
      assert.ok(!dump.includes(t), 'PRS token in a store');
      assert.ok(!dump.includes(t.slice(0, 40)), 'part of a PRS token in a store');
      assert.ok(!logs.includes(t.slice(0, 40)), 'PRS token in the logs');
    }
    assert.ok(!dump.includes(AUDIT_SYSTEM.transparencyPseudonymToken));
  });
});
