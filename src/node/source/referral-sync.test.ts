import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { BundleEntry, Resource } from '@medplum/fhirtypes';
import pino from 'pino';
import { migrate } from '../../kit/store/migrate.ts';
import { openIsolatedPgliteStore } from '../../kit/store/pglite.ts';
import type { Store } from '../../kit/store/store.ts';
import { defaultAgreements } from '../../trust/agreements/default-agreements.ts';
import type { NodeEnvironment, NodeTenant } from '../environment.ts';
import type { EhrConnector } from './ehr-connector.ts';
import { nodeMigrations } from './migrations.ts';
import { startReferralSync } from './referral-sync.ts';

// The NVI must end up knowing exactly what the EHR holds, even when it was unreachable for a
// while: a registration or withdrawal that failed is retried on the next pass, not forgotten.
// The EHR and the NVI are in-memory stand-ins here (the sandbox end-to-end tests use the real ones).

const TENANT = { ura: '90000103', type: 'Z3' } as NodeTenant;
const BSN = '999990019';

/** An EHR that offers FHIR system history (`_history?_since=`), in memory. */
class EhrStandIn {
  entries: BundleEntry[] = [];
  private clock = Date.parse('2026-01-01T00:00:00Z');
  add(action: 'create' | 'delete', resourceType: string, id: string, patient?: string) {
    this.clock += 1000;
    const at = new Date(this.clock).toISOString();
    const url = `${resourceType}/${id}`;
    const resource = { resourceType, id, meta: { lastUpdated: at }, ...(resourceType === 'Patient' ? {} : { patient: { reference: patient } }) } as Resource;
    this.entries.push(
      action === 'delete'
        ? { request: { method: 'DELETE', url }, response: { status: '204', lastModified: at } }
        : { resource, request: { method: 'POST', url: resourceType }, response: { status: '201', lastModified: at } },
    );
  }
  connector(): EhrConnector {
    return {
      baseUrl: 'http://ehr.test/fhir',
      getJson: async (url: string) => {
        const u = new URL(url);
        if (u.pathname.endsWith('/metadata')) return { resourceType: 'CapabilityStatement', rest: [{ mode: 'server', interaction: [{ code: 'history-system' }] }] };
        const since = u.searchParams.get('_since');
        const entry = this.entries.filter((e) => !since || Date.parse(e.response?.lastModified ?? '') >= Date.parse(since));
        return { resourceType: 'Bundle', type: 'history', entry };
      },
      read: async (type: string, id: string) => ({ resourceType: type, id, identifier: [{ system: 'http://fhir.nl/fhir/NamingSystem/bsn', value: BSN }] }),
    } as unknown as EhrConnector;
  }
}

describe('referral sync', () => {
  let store: Store;
  const nvi = new Set<string>();
  let nviDown = false;
  const ehr = new EhrStandIn();
  const env = {
    agreements: () => defaultAgreements(),
    registerReferral: async (_t: NodeTenant, bsn: string, categories: string[]) => {
      if (nviDown) throw new Error('NVI unreachable');
      for (const c of categories) nvi.add(`${bsn}|${c}`);
    },
    withdrawReferral: async (_t: NodeTenant, bsn: string, categories: string[]) => {
      if (nviDown) throw new Error('NVI unreachable');
      for (const c of categories) nvi.delete(`${bsn}|${c}`);
    },
  } as unknown as NodeEnvironment;
  let sync: ReturnType<typeof startReferralSync>;

  before(async () => {
    store = await openIsolatedPgliteStore('node_sync_test');
    await migrate(store, nodeMigrations);
    sync = startReferralSync({ store, env, tenants: [TENANT], connectors: new Map([[TENANT.ura, ehr.connector()]]), intervalMs: 0, log: pino({ level: 'silent' }) });
  });
  after(async () => {
    await sync.stop();
    await store.close();
  });

  it('registers when data appears and withdraws when the last item goes', async () => {
    ehr.add('create', 'Patient', 'p1', 'Patient/p1');
    ehr.add('create', 'AllergyIntolerance', 'a1', 'Patient/p1');
    ehr.add('create', 'AllergyIntolerance', 'a2', 'Patient/p1');
    await sync.runOnce();
    assert.ok([...nvi].some((x) => x.endsWith('|AllergyIntolerance')), [...nvi].join());
    ehr.add('delete', 'AllergyIntolerance', 'a1');
    await sync.runOnce();
    assert.ok([...nvi].some((x) => x.endsWith('|AllergyIntolerance')), 'one allergy is left');
    ehr.add('delete', 'AllergyIntolerance', 'a2');
    await sync.runOnce();
    assert.ok(![...nvi].some((x) => x.endsWith('|AllergyIntolerance')));
  });

  it('retries a withdrawal that failed while the NVI was down', async () => {
    ehr.add('create', 'Condition', 'c1', 'Patient/p1');
    await sync.runOnce();
    assert.ok([...nvi].some((x) => x.endsWith('|Condition')));
    ehr.add('delete', 'Condition', 'c1');
    nviDown = true;
    await sync.runOnce();
    nviDown = false;
    assert.ok([...nvi].some((x) => x.endsWith('|Condition')), 'not yet withdrawn');
    await sync.runOnce();
    assert.ok(![...nvi].some((x) => x.endsWith('|Condition')), 'withdrawn on the next pass');
  });

  it('retries a registration that failed while the NVI was down', async () => {
    nviDown = true;
    ehr.add('create', 'Flag', 'f1', 'Patient/p1');
    await sync.runOnce();
    nviDown = false;
    const category = [...nvi].length;
    await sync.runOnce();
    assert.equal(nvi.size, category + 1, [...nvi].join());
    const [{ n }] = await store.query<{ n: string }>('SELECT count(*) AS n FROM referral_pending');
    assert.equal(Number(n), 0, 'nothing left pending');
  });

  it('registers no referral for an observation no exchange covers (social history)', async () => {
    const { categoryOf } = await import('./referral-sync.ts');
    const agreements = defaultAgreements();
    const obs = (code: string) => ({ resourceType: 'Observation', category: [{ coding: [{ code }] }] });
    assert.match(String(categoryOf(obs('vital-signs'), agreements)), /VitalSigns/);
    assert.match(String(categoryOf(obs('laboratory'), agreements)), /Laboratory/);
    assert.equal(categoryOf(obs('social-history'), agreements), undefined);
  });
});
