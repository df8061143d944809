import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, relative } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { AuditEvent } from '@medplum/fhirtypes';
import Fastify, { type FastifyInstance } from 'fastify';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { Registry } from 'prom-client';
import { buildAuditEvent } from '../../audit/contract.ts';
import { DEFAULT_OPERATOR_URA } from '../../kit/common-settings.ts';
import { errorCodeOf, hasErrorCode } from '../../kit/errors.ts';
import { testBsn } from '../../kit/identifiers/bsn.ts';
import { SYSTEM } from '../../kit/identifiers/systems.ts';
import { answerErrorsAsOutcomes } from '../../kit/http/service.ts';
import { createLogger } from '../../kit/log.ts';
import type { PartContext } from '../../kit/part.ts';
import { newTrace } from '../../kit/trace.ts';
import { defaultAgreements } from '../../trust/agreements/default-agreements.ts';
import type { NodeEnvironment, NodeTenant } from '../environment.ts';
import { auditMissingCounter } from '../metrics.ts';
import { AUDIT_UNAVAILABLE_MESSAGE, logAccessOrDeny, logStoredWrite } from './access-log.ts';
import { registerCitizenApi } from './citizen-api.ts';
import { EhrConnector } from './ehr-connector.ts';
import { ALLERGY_TEXT, answeringEhr, BSN, HOLDER, holderApp, PATIENT } from './holder-api.fixture.ts';

// One audited-access rule for the node: an access whose event cannot be written releases nothing
// (503 ERR_NODE_AUDIT_UNAVAILABLE), a write already stored stands and raises an alarm, and no
// path in src/node writes to the audit log around these two functions.

const AUDIT_CODE = 'ERR_NODE_AUDIT_UNAVAILABLE';
const failingAudit: NodeEnvironment['audit'] = async () => {
  throw new Error('disk full');
};

function sampleEvent(): AuditEvent {
  return buildAuditEvent({
    who: { organizationUra: HOLDER.ura, clientId: HOLDER.ura },
    what: { exchange: 'acute-zorg', dataCategories: [], interaction: 'create', query: 'Observation', side: 'holder' },
    patient: { localReference: 'Patient/p1' },
    why: { purposeOfUse: 'TREAT' },
    outcome: 'success',
  });
}

/** A logger that keeps what it was told, for the assertions. */
function keptLog() {
  const lines: Array<{ obj: object; msg: string }> = [];
  return { lines, error: (obj: object, msg: string) => lines.push({ obj, msg }) };
}

describe('logAccessOrDeny', () => {
  it('writes one event per named patient, each its own, and names nobody when none is', async () => {
    const calls: Array<{ id?: string; patient?: { bsn: string } }> = [];
    const env = { audit: async (e: AuditEvent, patient?: { bsn: string }) => void calls.push({ id: e.id, patient }) } as unknown as NodeEnvironment;
    await logAccessOrDeny(env, sampleEvent(), [{ bsn: testBsn(1) }, { bsn: testBsn(2) }]);
    assert.deepEqual(calls.map((c) => c.patient), [{ bsn: testBsn(1) }, { bsn: testBsn(2) }]);
    assert.notEqual(calls[0].id, calls[1].id);
    calls.length = 0;
    await logAccessOrDeny(env, sampleEvent(), []);
    assert.deepEqual(calls.map((c) => c.patient), [undefined]);
  });

  it('denies with 503 ERR_NODE_AUDIT_UNAVAILABLE when the log refuses, and logs no BSN', async () => {
    const env = { audit: failingAudit } as unknown as NodeEnvironment;
    const log = keptLog();
    const event = sampleEvent();
    await assert.rejects(logAccessOrDeny(env, event, { bsn: BSN }, log), (e: unknown) => {
      assert.ok(hasErrorCode(e, AUDIT_CODE));
      assert.equal(e.status, 503);
      assert.equal(e.message, AUDIT_UNAVAILABLE_MESSAGE);
      return true;
    });
    assert.equal(log.lines.length, 1);
    assert.ok(JSON.stringify(log.lines).includes(event.id!), 'the log line names the event');
    assert.ok(!JSON.stringify(log.lines).includes(BSN), 'never a BSN in the log');
  });
});

describe('logStoredWrite', () => {
  it('does not throw when the log refuses: an audit-missing alarm with the event id, counted', async () => {
    const env = { audit: failingAudit } as unknown as NodeEnvironment;
    const log = keptLog();
    const registry = new Registry();
    const missing = auditMissingCounter(registry);
    assert.equal(auditMissingCounter(registry), missing, 'one counter per registry');
    const event = sampleEvent();
    await logStoredWrite(env, event, { bsn: BSN }, log, missing);
    assert.equal(log.lines.length, 1);
    assert.equal((log.lines[0].obj as { alarm?: string }).alarm, 'audit-missing');
    assert.equal((log.lines[0].obj as { auditEvent?: string }).auditEvent, event.id);
    assert.ok(!JSON.stringify(log.lines).includes(BSN), 'never a BSN in the alarm');
    assert.match(await registry.metrics(), /ldn_node_audit_missing_total 1\b/);
  });

  it('writes the event and raises nothing when the log takes it', async () => {
    const written: AuditEvent[] = [];
    const env = { audit: async (e: AuditEvent) => void written.push(e) } as unknown as NodeEnvironment;
    const log = keptLog();
    await logStoredWrite(env, sampleEvent(), { bsn: BSN }, log);
    assert.equal(written.length, 1);
    assert.equal(log.lines.length, 0);
  });
});

describe('holder API when the audit log refuses', () => {
  let ehr: Server;
  let app: FastifyInstance;
  let connector: EhrConnector;
  before(async () => {
    const answering = await answeringEhr();
    ehr = answering.server;
    connector = new EhrConnector({ baseUrl: answering.base, deadlineMs: 2000 });
    app = await holderApp(failingAudit, connector, answering.base);
  });
  after(async () => {
    await app.close();
    await connector.close();
    await new Promise((r) => ehr.close(r));
  });

  it('answers a search and a batch with 503 ERR_NODE_AUDIT_UNAVAILABLE and no data', async () => {
    const search = await app.inject({ method: 'GET', url: `/org/${HOLDER.ura}/fhir/AllergyIntolerance?${PATIENT}` });
    const batch = await app.inject({
      method: 'POST',
      url: `/org/${HOLDER.ura}/fhir`,
      payload: { resourceType: 'Bundle', type: 'batch', entry: [{ request: { method: 'GET', url: `AllergyIntolerance?${PATIENT}` } }] },
    });
    for (const r of [search, batch]) {
      assert.equal(r.statusCode, 503, r.body);
      assert.equal(errorCodeOf(JSON.parse(r.body)), AUDIT_CODE);
      assert.ok(!r.body.includes(ALLERGY_TEXT), 'no clinical data in the answer');
    }
  });
});

describe('citizen API when the audit log refuses', () => {
  // The citizen's own id_token from a provider whose keys an HTTP server publishes; the
  // operator's portal is the peer; the EHR answers; the audit log refuses every write.
  const tenant: NodeTenant = { ...HOLDER };
  let jwksServer: Server;
  let ehr: Server;
  let app: FastifyInstance;
  let connector: EhrConnector;
  let idToken: string;
  let written = 0;
  before(async () => {
    const { privateKey, publicKey } = await generateKeyPair('RS256');
    const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256' };
    jwksServer = createServer((_req, res) => res.setHeader('content-type', 'application/json').end(JSON.stringify({ keys: [jwk] })));
    await new Promise<void>((r) => jwksServer.listen(0, '127.0.0.1', r));
    const issuer = `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}`;
    idToken = await new SignJWT({ acr: 'http://eidas.europa.eu/LoA/substantial', azp: 'portal' })
      .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
      .setIssuer(issuer)
      .setSubject(BSN)
      .setAudience('portal')
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(privateKey);
    const answering = await answeringEhr();
    ehr = answering.server;
    connector = new EhrConnector({ baseUrl: answering.base, deadlineMs: 2000 });
    const agreements = defaultAgreements();
    const env = {
      agreements: () => agreements,
      audit: async () => {
        written++;
        throw new Error('disk full');
      },
    } as unknown as NodeEnvironment;
    const log = createLogger('test', { level: 'silent' });
    const ctx = {
      name: 'node',
      baseUrl: 'https://holder.test',
      log,
      tls: {},
      settings: {},
      network: { has: (part: string) => part === 'citizen-identity', url: () => issuer },
    } as unknown as PartContext;
    app = Fastify();
    app.addHook('onRequest', async (request) => {
      request.trace = newTrace();
      request.peer = { ura: DEFAULT_OPERATOR_URA } as typeof request.peer;
    });
    answerErrorsAsOutcomes(app, log);
    await registerCitizenApi(app, { ctx, tenants: new Map([[tenant.ura, { ...tenant, ehrBaseUrl: answering.base }]]), env, connectors: new Map([[tenant.ura, connector]]) });
  });
  after(async () => {
    await app.close();
    await connector.close();
    await new Promise((r) => ehr.close(r));
    await new Promise((r) => jwksServer.close(r));
  });

  it('releases nothing (503 ERR_NODE_AUDIT_UNAVAILABLE) where it used to release the data', async () => {
    const patient = `patient:identifier=${encodeURIComponent(`${SYSTEM.bsn}|${BSN}`)}`;
    const r = await app.inject({
      method: 'POST',
      url: `/org/${tenant.ura}/citizen/$everything`,
      headers: { authorization: `Bearer ${idToken}` },
      payload: { resourceType: 'Bundle', type: 'batch', entry: [{ request: { method: 'GET', url: `AllergyIntolerance?${patient}` } }] },
    });
    assert.ok(written > 0, 'the access reached the audit log (and the EHR was asked)');
    assert.equal(r.statusCode, 503, r.body);
    assert.equal(errorCodeOf(JSON.parse(r.body)), AUDIT_CODE);
    assert.ok(!r.body.includes(ALLERGY_TEXT), 'no clinical data in the answer');
  });
});

describe('the audited-access rule', () => {
  // Every write to the audit log in src/node goes through access-log.ts; the one exception is the
  // bulk export's job-level event (no patient's access; see bulk-export/routes.ts).
  const NODE_DIR = join(import.meta.dirname, '..');
  const ALLOWED = new Map([
    ['source/access-log.ts', Number.POSITIVE_INFINITY],
    ['bulk-export/routes.ts', 1],
  ]);
  const AUDIT_CALL = /\.\s*audit\s*\(|\[\s*['"`]audit['"`]\s*\]|\{\s*audit\s*\}\s*=\s*[\w.]*env/g;

  function sources(dir: string): string[] {
    return readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
      const path = join(dir, d.name);
      if (d.isDirectory()) return sources(path);
      return d.name.endsWith('.ts') && !d.name.endsWith('.test.ts') && !d.name.endsWith('.fixture.ts') ? [path] : [];
    });
  }

  it('finds a call written around the wrapper (the rule can fail)', () => {
    assert.equal(('await o.env\n  .audit(event)'.match(AUDIT_CALL) ?? []).length, 1);
    assert.equal(("env['audit'](e)".match(AUDIT_CALL) ?? []).length, 1);
  });

  it('allows `.audit(` in src/node only in access-log.ts (and the bulk export job log)', () => {
    const offenders: string[] = [];
    for (const file of sources(NODE_DIR)) {
      const rel = relative(NODE_DIR, file).split('\\').join('/');
      const found = (readFileSync(file, 'utf8').match(AUDIT_CALL) ?? []).length;
      if (found > (ALLOWED.get(rel) ?? 0)) offenders.push(`${rel}: ${found}`);
    }
    assert.deepEqual(offenders, [], 'write audit events through source/access-log.ts (logAccessOrDeny or logStoredWrite)');
  });
});
