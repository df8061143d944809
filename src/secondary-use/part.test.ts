import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { PartClient } from '../kit/http/client.ts';
import { createService, type RunningService } from '../kit/http/service.ts';
import { createTestPki, staticNetwork } from '../kit/testing/test-pki.ts';
import { HDAB_JWKS_PATH, PERMIT_TYP, type PermitClaims } from './contract.ts';
import { createHdabPart } from './part.ts';
import { scanWorkspace } from './scanner.ts';
import { createTestHolder } from './test-holder.ts';
import { deliveredFiles, fixturePopulation, TIA_STATIN_APPLICATION } from './test-fixtures.ts';

// The HDAB over mutual TLS end to end, against a holder double that follows the contract: the
// permit lifecycle (refused, granted, expired → extraction refused), extraction into the workspace,
// the researcher's aggregate with small cells suppressed, isolation between permits, the audit trail.

const HDAB = '90000900';
const OPERATOR = '90000001';
const UNIVERSITY = '90000950';
const INSTITUTE = '90000951';
const HOSPITAL = '90000102';
const PRACTICE = '90000103';
const people = fixturePopulation(600);
const byHolder: Record<string, typeof people> = { [HOSPITAL]: people.slice(0, 350), [PRACTICE]: people.slice(350) };
const AGE_BANDS = `SELECT p.id AS patient, CASE WHEN p.age < 40 THEN '<40' WHEN p.age < 60 THEN '40-59' WHEN p.age < 80 THEN '60-79' ELSE '80+' END AS age_band
FROM patient p WHERE p.id IN (SELECT patient FROM condition WHERE code = '266257000') AND p.id IN (SELECT patient FROM medication WHERE code LIKE 'C10%')`;

describe('HDAB part over mutual TLS', () => {
  let hdab: RunningService;
  let holder: RunningService;
  let holderPart: ReturnType<typeof createTestHolder>;
  let clock = new Date();
  const part = createHdabPart({
    isResearchOrganisation: async (ura) => ura === UNIVERSITY || ura === INSTITUTE,
    holders: async () => [HOSPITAL, PRACTICE].map((ura) => ({ ura, name: `Holder ${ura}`, fhirBase: `${holder.url}/org/${ura}/fhir` })),
    expiryIntervalMs: 3_600_000,
    now: () => clock,
  });
  const clients: PartClient[] = [];
  let as: Record<'operator' | 'university' | 'institute' | 'hospital', PartClient>;
  const call = async (who: keyof typeof as, method: string, path: string, body?: unknown) => {
    const r = await as[who].call<Record<string, unknown>>(`${hdab.url}${path}`, { method, ...(body !== undefined ? { body, headers: { 'content-type': 'application/json' } } : {}) });
    return r;
  };
  const apply = async (who: 'university' | 'institute', extra: Record<string, unknown> = {}) => {
    const r = await call(who, 'POST', '/permits', { ...TIA_STATIN_APPLICATION, periodStart: '2026-01-01', periodEnd: new Date(clock.getTime() + 365 * 86_400_000).toISOString().slice(0, 10), ...extra });
    assert.equal(r.status, 201, r.text);
    return r.body.id as string;
  };
  const grantAndExtract = async (id: string) => {
    assert.equal((await call('operator', 'POST', `/permits/${id}/decision`, { decision: 'grant', reason: 'doel en grondslag passen' })).status, 200);
    const r = await call('operator', 'POST', `/permits/${id}/extraction`);
    assert.equal(r.status, 202, r.text);
    await part.runtime()?.extraction(id);
    return (await call('operator', 'GET', `/permits/${id}`)).body;
  };

  before(async () => {
    const pki = await createTestPki();
    const network = staticNetwork({});
    hdab = await createService(part, { tls: await pki.identity(HDAB), network, settings: { operator_ura: OPERATOR } });
    holderPart = createTestHolder({ hdabUra: HDAB, hdabUrl: () => hdab.url, files: (ura) => deliveredFiles(ura, byHolder[ura] ?? []) });
    holder = await createService(holderPart, { tls: await pki.identity('90000100'), network });
    const client = async (ura: string) => {
      const c = new PartClient({ tls: await pki.identity(ura), maxRetries: 0 });
      clients.push(c);
      return c;
    };
    as = { operator: await client(OPERATOR), university: await client(UNIVERSITY), institute: await client(INSTITUTE), hospital: await client(HOSPITAL) };
  });
  after(async () => {
    for (const c of clients) await c.close();
    await holder?.close();
    await hdab?.close();
  });

  it('takes applications only from research organisations, and shows each only to its applicant and the operator', async () => {
    assert.equal((await call('hospital', 'POST', '/permits', TIA_STATIN_APPLICATION)).status, 403);
    const bad = await call('university', 'POST', '/permits', { ...TIA_STATIN_APPLICATION, minCell: 2 });
    assert.equal(bad.status, 422);
    assert.equal(bad.body.resourceType, 'OperationOutcome');
    const id = await apply('university');
    assert.equal((await call('university', 'GET', `/permits/${id}`)).body.status, 'applied');
    assert.equal((await call('operator', 'GET', `/permits/${id}`)).status, 200);
    assert.equal((await call('institute', 'GET', `/permits/${id}`)).status, 404);
    assert.equal((await call('university', 'POST', `/permits/${id}/decision`, { decision: 'grant', reason: 'zelf' })).status, 403);
    assert.equal((await call('university', 'POST', `/permits/${id}/query`, { sql: AGE_BANDS })).status, 403);
  });

  it('refuses: a refused permit cannot be extracted or decided again', async () => {
    const id = await apply('university');
    const r = await call('operator', 'POST', `/permits/${id}/decision`, { decision: 'refuse', reason: 'grondslag ontbreekt' });
    assert.equal(r.body.status, 'refused');
    assert.equal(r.body.permit, undefined);
    assert.equal((await call('operator', 'POST', `/permits/${id}/decision`, { decision: 'grant', reason: 'toch' })).status, 409);
    const kickOffs = holderPart.kickOffs;
    assert.equal((await call('operator', 'POST', `/permits/${id}/extraction`)).status, 403);
    assert.equal(holderPart.kickOffs, kickOffs);
  });

  it('grants a signed permit per the contract, extracts, and releases the count per age band with small cells suppressed', async () => {
    const id = await apply('university');
    const permit = await grantAndExtract(id);
    assert.equal(permit.status, 'granted');
    assert.equal(permit.workspace, 'ready', JSON.stringify(permit.extraction));
    // The permit verifies against the published JWKS and says what the contract says.
    const jwks = await as.hospital.json<{ keys: [] }>(`${hdab.url}${HDAB_JWKS_PATH}`);
    const jws = permit.permit as string;
    assert.equal(decodeProtectedHeader(jws).typ, PERMIT_TYP);
    const { payload } = await jwtVerify(jws, createLocalJWKSet(jwks), { issuer: hdab.url, typ: PERMIT_TYP });
    const claims = payload as unknown as PermitClaims;
    assert.equal(claims.jti, id);
    assert.equal(claims.sub, UNIVERSITY);
    assert.deepEqual(claims.cohort, TIA_STATIN_APPLICATION.cohort);
    assert.equal(claims.min_cell, 10);
    const holders = (permit.extraction as { holders: Array<{ status: string }> }).holders;
    assert.deepEqual(holders.map((h) => h.status), ['delivered', 'delivered'], JSON.stringify(holders));

    const r = await call('university', 'POST', `/permits/${id}/query`, { sql: AGE_BANDS });
    assert.equal(r.status, 200, r.text);
    const expected = new Map<string, number>();
    for (const p of people.filter((x) => x.tia && x.statin)) {
      const age = clock.getUTCFullYear() - Number(p.birthDate.slice(0, 4));
      const band = age < 40 ? '<40' : age < 60 ? '40-59' : age < 80 ? '60-79' : '80+';
      expected.set(band, (expected.get(band) ?? 0) + 1);
    }
    const released = new Map((r.body.released as Array<{ dims: { age_band: string }; n: number }>).map((c) => [c.dims.age_band, c.n]));
    for (const [band, n] of expected) assert.equal(released.get(band), n >= 10 ? n : undefined, band);
    assert.equal(r.body.suppressed, [...expected.values()].filter((n) => n < 10).length);

    // A query releasing only small cells is refused; so is anything but one SELECT.
    assert.equal((await call('university', 'POST', `/permits/${id}/query`, { sql: 'SELECT id AS patient, id AS who FROM patient' })).status, 422);
    assert.equal((await call('university', 'POST', `/permits/${id}/query`, { sql: 'DROP TABLE patient' })).status, 422);
    // The operator grants and extracts but does not read the workspace.
    assert.equal((await call('operator', 'POST', `/permits/${id}/query`, { sql: AGE_BANDS })).status, 403);
    // The holders were told to forget the jobs.
    assert.equal(holderPart.deleted.length >= 2, true);

    const trail = await call('university', 'GET', `/permits/${id}/audit`);
    const actions = (trail.body.entry as Array<{ resource: { subtype: Array<{ code: string }>; outcome: string } }>).map((e) => `${e.resource.subtype[0].code}:${e.resource.outcome}`);
    for (const a of ['permit.apply:0', 'permit.grant:0', 'extraction:0', 'query:0', 'release:0', 'query:4']) assert.ok(actions.includes(a), `${a} in ${actions.join(', ')}`);
  });

  it('keeps each permit to its own workspace: another organisation can neither query nor attach it', async () => {
    const uni = (await call('university', 'GET', '/permits')).body.permits as Array<{ id: string; workspace: string }>;
    const uniPermit = uni.find((p) => p.workspace === 'ready')!.id;
    const id = await apply('institute', { cohort: { conditions: ['266257000'] } });
    await grantAndExtract(id);
    assert.equal((await call('institute', 'POST', `/permits/${uniPermit}/query`, { sql: AGE_BANDS })).status, 404);
    const otherFile = `${part.runtime()!.workspaces.dirOf(uniPermit)}/workspace.duckdb`;
    for (const sql of [`ATTACH '${otherFile}' AS other`, `SELECT id AS patient FROM read_json_auto('${part.runtime()!.workspaces.dirOf(uniPermit)}/ndjson/*.ndjson')`]) {
      const r = await call('institute', 'POST', `/permits/${id}/query`, { sql });
      assert.equal(r.status, 422, sql);
    }
    // Its own workspace answers, and its pseudonyms are not the university's (a workspace per permit).
    assert.equal((await call('institute', 'POST', `/permits/${id}/query`, { sql: 'SELECT id AS patient, gender FROM patient' })).status, 200);
  });

  it('has no BSN, name or exact birth date in any workspace file', async () => {
    const root = part.runtime()!.workspaces.dirOf('x').replace(/\/x$/, '');
    const findings = await scanWorkspace(root, { bsns: people.map((p) => p.bsn), names: people.map((p) => p.name), birthDates: people.map((p) => p.birthDate) });
    assert.deepEqual(findings, []);
  });

  it('expires: past its end a permit cannot be extracted or queried, and its workspace is destroyed', async () => {
    const mine = (await call('university', 'GET', '/permits')).body.permits as Array<{ id: string; workspace: string; application: { periodEnd: string } }>;
    const ready = mine.find((p) => p.workspace === 'ready')!;
    clock = new Date(new Date(ready.application.periodEnd).getTime() + 1000);
    const refused = await call('operator', 'POST', `/permits/${ready.id}/extraction`);
    assert.equal(refused.status, 403);
    assert.match(String((refused.body as { issue?: Array<{ diagnostics: string }> }).issue?.[0].diagnostics), /not in force/);
    assert.equal((await call('university', 'POST', `/permits/${ready.id}/query`, { sql: AGE_BANDS })).status, 403);
    const expired = await part.runtime()!.expireNow();
    assert.ok(expired.includes(ready.id));
    const after = (await call('university', 'GET', `/permits/${ready.id}`)).body;
    assert.equal(after.status, 'expired');
    assert.equal(after.workspace, 'destroyed');
    assert.equal(part.runtime()!.workspaces.exists(ready.id), false);
    const trail = await call('operator', 'GET', `/permits/${ready.id}/audit`);
    const actions = (trail.body.entry as Array<{ resource: { subtype: Array<{ code: string }> } }>).map((e) => e.resource.subtype[0].code);
    assert.ok(actions.includes('permit.expire') && actions.includes('workspace.destroy'));
  });
});
