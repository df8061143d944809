import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { AuditEvent, Bundle, Endpoint, ImagingStudy, OperationOutcome } from '@medplum/fhirtypes';
import { eventsByTraceId } from '../../src/audit/chain.ts';
import { consentResource, emptyScope } from '../../src/consent/fhir.ts';
import { PartClient } from '../../src/kit/http/client.ts';
import { newTrace } from '../../src/kit/trace.ts';
import { studyUidOf } from '../../src/node/imaging/qido-fhir.ts';
import { imagingUnavailable } from '../../src/sandbox/archives/cast-archives.ts';
import { DE_GROOT } from '../../src/sandbox/cast.ts';
import type { Sandbox } from '../../src/sandbox/sandbox.ts';
import { TrustTokenProvider } from '../../src/trust/auth/token-provider.ts';
import { apiOverview, citizenPortalLogin, clinicianLogin, clinicianVerklaring, openOverview, startTestSandbox } from './sandbox-helpers.ts';

// Beeldbeschikbaarheid with a real archive (issue 19): Orthanc per hospital, De Groot's CT head
// at Veluwe found through the NVI, listed with its report and previewed through the Veluwe node's
// WADO-RS gate; a pharmacy and an exchange without images refused and audited; a hanging archive
// gives a partial overview naming it; an objection to imaging keeps the study unlisted.

const VELUWE = '90000101';
const PHARMACY = '90000104';
const BAKKER = '900001011'; // SEH-arts, Veluwe
const PETERS = '900001041'; // apotheker, Apotheek Kerkrade
const EXCHANGE = 'beeldbeschikbaarheid';

const unavailable = imagingUnavailable();
if (unavailable) console.log(`!! SKIPPING the imaging end-to-end tests: ${unavailable}`);

const studies = (b: Bundle) => (b.entry ?? []).map((e) => e.resource).filter((r): r is ImagingStudy => r?.resourceType === 'ImagingStudy');
const outcomes = (b: Bundle) => (b.entry ?? []).map((e) => e.resource).filter((r): r is OperationOutcome => r?.resourceType === 'OperationOutcome');

describe('beeldbeschikbaarheid with a real image archive', { timeout: 600_000, skip: unavailable ? `imaging unavailable: ${unavailable}` : false }, () => {
  let sandbox: Sandbox;
  let verklaring: string;
  let veluweNode: string;
  before(async () => {
    sandbox = await startTestSandbox({ overviewDeadlineMs: 12_000 });
    verklaring = await clinicianVerklaring(sandbox, BAKKER);
    veluweNode = sandbox.manifest.participants.find((p) => p.ura === VELUWE)!.nodeUrl!;
  });
  after(async () => {
    await sandbox?.stop();
  });

  const ctStudy = async (): Promise<ImagingStudy> => {
    const r = await apiOverview(sandbox, { ura: VELUWE, verklaring, bsn: DE_GROOT.bsn, exchange: EXCHANGE });
    assert.equal(r.status, 200, JSON.stringify(r.body).slice(0, 500));
    const ct = studies(r.body).find((s) => s.modality?.some((m) => m.code === 'CT'));
    assert.ok(ct, `no CT in ${JSON.stringify(outcomes(r.body))}`);
    return ct;
  };

  it("finds De Groot's CT through the NVI with a dicom-wado-rs Endpoint on the Veluwe node, never the archive", async () => {
    const r = await apiOverview(sandbox, { ura: VELUWE, verklaring, bsn: DE_GROOT.bsn, exchange: EXCHANGE });
    assert.equal(r.status, 200);
    const found = studies(r.body);
    const ct = found.find((s) => s.modality?.some((m) => m.code === 'CT'));
    const xr = found.find((s) => s.modality?.some((m) => m.code === 'DX'));
    assert.ok(ct && xr, `CT at Veluwe and X-ray at Leiden expected, got ${found.map((s) => s.description).join(', ')}`);
    assert.equal(ct.series?.[0].bodySite?.code, '69536005');
    assert.equal(ct.numberOfInstances, 24);
    const endpoint = ct.contained?.find((c): c is Endpoint => c.resourceType === 'Endpoint');
    assert.equal(endpoint?.connectionType.code, 'dicom-wado-rs');
    assert.equal(endpoint?.address, `${veluweNode}/dicomweb`);
    const text = JSON.stringify(r.body);
    for (const archive of sandbox.archives.running.values()) assert.ok(!text.includes(new URL(archive.restUrl).host), 'the archive address never leaves the node');
    const report = ((r.body as Bundle).entry ?? []).map((e) => e.resource).find((x) => x?.resourceType === 'DiagnosticReport' && /TIA/.test(JSON.stringify(x)));
    assert.ok(report, 'the radiology report comes along');
  });

  it('lists the studies in the viewer and shows a rendered preview through the node', async () => {
    const { browser, viewer } = await clinicianLogin(sandbox, BAKKER);
    try {
      const page = await openOverview(browser, viewer, DE_GROOT.bsn, { exchange: EXCHANGE });
      assert.equal(page.status, 200, page.body.slice(0, 500));
      const section = /<section aria-labelledby="g-images"[\s\S]*?<\/section>/.exec(page.body)?.[0] ?? '';
      assert.match(section, /CT hersenen blanco/);
      assert.match(section, /Head structure/);
      assert.match(section, /Ziekenhuis Veluwe/);
      assert.match(section, /Ziekenhuis Leiden/);
      assert.match(section, /past bij een TIA/);
      const src = /<img[^>]+src="([^"]+imaging\/preview[^"]+)"/.exec(section)?.[1];
      assert.ok(src, 'a preview image');
      const image = await browser.request(new URL(src.replace(/&amp;/g, '&').replace(/&#61;/g, '='), `${viewer}/`).href);
      assert.equal(image.status, 200, image.body.slice(0, 300));
      assert.equal(image.body.slice(1, 4), 'PNG');
    } finally {
      await browser.close();
    }
  });

  it('refuses a pharmacy asking for images, and audits it at the holder', async () => {
    const ct = await ctStudy();
    const pharmacist = await clinicianVerklaring(sandbox, PETERS);
    const identity = sandbox.identities.participants.get(PHARMACY)!;
    const tokens = new TrustTokenProvider({ tls: identity, ura: PHARMACY, tokenEndpoint: `${new URL(veluweNode).origin}/oauth/token` });
    const client = new PartClient({ tls: identity, tokens, maxRetries: 0, defaultDeadlineMs: 30_000 });
    try {
      const trace = newTrace();
      const r = await client.call<OperationOutcome>(`${veluweNode}/dicomweb/studies/${studyUidOf(ct)}/rendered`, {
        scope: 'medicatieoverdracht',
        resource: veluweNode,
        userAssertion: pharmacist,
        trace,
      });
      assert.equal(r.status, 403, r.text.slice(0, 300));
      assert.match(r.body.issue[0].diagnostics ?? '', /does not cover images/);
      const node = sandbox.nodes.find((n) => n.runtime()?.tenants.has(VELUWE))!.runtime()!;
      await new Promise((res) => setTimeout(res, 300));
      const events = (await eventsByTraceId(node.ctx.store, trace.traceId)) as AuditEvent[];
      assert.equal(events.length, 1, 'one holder event for the refused retrieve');
      assert.equal(events[0].outcome, '4');
      assert.ok(!JSON.stringify(events).includes(DE_GROOT.bsn));
    } finally {
      await client.close();
      await tokens.close?.();
    }
  });

  it('refuses a retrieve under an exchange without images, and a path that is not a retrieve', async () => {
    const ct = await ctStudy();
    const identity = sandbox.identities.participants.get(VELUWE)!;
    const tokens = new TrustTokenProvider({ tls: identity, ura: VELUWE, tokenEndpoint: `${new URL(veluweNode).origin}/oauth/token` });
    const client = new PartClient({ tls: identity, tokens, maxRetries: 0, defaultDeadlineMs: 30_000 });
    try {
      const acute = await client.call(`${veluweNode}/dicomweb/studies/${studyUidOf(ct)}/rendered`, { scope: 'acute-zorg', resource: veluweNode, userAssertion: verklaring });
      assert.equal(acute.status, 403, acute.text.slice(0, 300));
      const odd = await client.call(`${veluweNode}/dicomweb/studies/${studyUidOf(ct)}/series/1.2/instances/..%2F..%2Fsystem`, { scope: EXCHANGE, resource: veluweNode, userAssertion: verklaring });
      assert.equal(odd.status, 400, odd.text.slice(0, 300));
      const unknown = await client.call(`${veluweNode}/dicomweb/studies/1.2.3.4/rendered`, { scope: EXCHANGE, resource: veluweNode, userAssertion: verklaring });
      assert.equal(unknown.status, 404, unknown.text.slice(0, 300));
      const frame = await client.call(`${veluweNode}/dicomweb/studies/${studyUidOf(ct)}/series/${ct.series![0].uid}/rendered`, {
        scope: EXCHANGE,
        resource: veluweNode,
        userAssertion: verklaring,
        headers: { accept: 'image/png' },
      });
      assert.equal(frame.status, 200, frame.text.slice(0, 300));
      assert.equal(frame.headers['content-type'], 'image/png');
    } finally {
      await client.close();
      await tokens.close?.();
    }
  });

  it('gives a partial overview naming Veluwe when its archive hangs', async () => {
    const archive = sandbox.archives.running.get(VELUWE)!;
    process.kill(archive.pid!, 'SIGSTOP');
    try {
      const r = await apiOverview(sandbox, { ura: VELUWE, verklaring, bsn: DE_GROOT.bsn, exchange: EXCHANGE });
      assert.equal(r.status, 200, JSON.stringify(r.body).slice(0, 500));
      assert.ok(!studies(r.body).some((s) => s.modality?.some((m) => m.code === 'CT')), 'no CT while the archive hangs');
      assert.ok(studies(r.body).some((s) => s.modality?.some((m) => m.code === 'DX')), "Leiden's X-ray still arrives");
      const named = outcomes(r.body).map((o) => `${o.issue[0].details?.text} ${o.issue[0].diagnostics}`);
      assert.ok(named.some((t) => /Ziekenhuis Veluwe/.test(t)), named.join(' | '));
    } finally {
      process.kill(archive.pid!, 'SIGCONT');
    }
  });

  it('lists his studies in the citizen portal too', async () => {
    const { browser, base } = await citizenPortalLogin(sandbox, DE_GROOT.bsn);
    try {
      const page = await browser.request(`${base}/data`);
      assert.equal(page.status, 200, page.body.slice(0, 300));
      assert.match(page.body, /CT hersenen blanco/);
      assert.match(page.body, /X-buikoverzicht/);
    } finally {
      await browser.close();
    }
  });

  it('does not list the study after De Groot objects to sharing images, and the section says so', async () => {
    const identity = sandbox.identities.participants.get(VELUWE)!;
    const tokens = new TrustTokenProvider({ tls: identity, ura: VELUWE, tokenEndpoint: `${sandbox.network.url('trust')}/oauth/token` });
    const client = new PartClient({ tls: identity, tokens, maxRetries: 0 });
    try {
      const consentUrl = sandbox.network.url('consent');
      const written = await client.call(`${consentUrl}/Consent`, {
        method: 'POST',
        body: consentResource({ ...emptyScope(), dataCategories: ['Imaging'], bsn: DE_GROOT.bsn, status: 'active', provision: 'deny' }),
        scope: 'consent:write',
        resource: consentUrl,
        userAssertion: verklaring,
      });
      assert.equal(written.status, 201, written.text);
    } finally {
      await client.close();
      await tokens.close?.();
    }
    let listed = true;
    for (let i = 0; i < 20 && listed; i++) {
      const r = await apiOverview(sandbox, { ura: VELUWE, verklaring, bsn: DE_GROOT.bsn, exchange: EXCHANGE });
      listed = studies(r.body).length > 0;
      if (listed) await new Promise((res) => setTimeout(res, 500));
    }
    assert.equal(listed, false, 'no study is listed after the objection');
    const { browser, viewer } = await clinicianLogin(sandbox, BAKKER);
    try {
      const page = await openOverview(browser, viewer, DE_GROOT.bsn, { exchange: EXCHANGE });
      const section = /<section aria-labelledby="g-images"[\s\S]*?<\/section>/.exec(page.body)?.[0] ?? '';
      assert.doesNotMatch(section, /CT hersenen/);
      // Said inside the section, never as "no images" (issue 14).
      assert.match(section, /Niet gedeeld op verzoek van de patiënt/);
      assert.doesNotMatch(section, /Geen beelden gevonden/);
    } finally {
      await browser.close();
    }
  });
});
