import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Resource } from '@medplum/fhirtypes';
import pino from 'pino';
import { testBsn } from '../../kit/identifiers/bsn.ts';
import { SYSTEM } from '../../kit/identifiers/systems.ts';
import { migrate } from '../../kit/store/migrate.ts';
import { openIsolatedPgliteStore } from '../../kit/store/pglite.ts';
import type { Store } from '../../kit/store/store.ts';
import { defaultAgreements } from '../../trust/agreements/default-agreements.ts';
import type { NodeEnvironment, NodeTenant } from '../environment.ts';
import { EhrChangeFeed } from './ehr-changes.ts';
import { EhrConnector } from './ehr-connector.ts';
import { searchEhr } from './holder-api.ts';
import { startMedplumEhr, type MedplumEhr } from './medplum-ehr.fixture.ts';
import { nodeMigrations } from './migrations.ts';
import { referralTypes, startReferralSync } from './referral-sync.ts';

// The node's EHR connector against a FHIR server nobody here wrote (Medplum's fhir-router 4.5.2,
// in-memory repository) as one organisation's EHR: data written there makes referrals appear
// and disappear, and the holder's searches read from it. Only the NVI is a recording stand-in.

const TENANT = { ura: '90000102', type: 'V4', name: 'Ziekenhuis Leiden' } as NodeTenant;
const BSN = testBsn(4242);

describe('EHR connector against Medplum (standard FHIR only)', () => {
  let ehr: MedplumEhr;
  let store: Store;
  let connector: EhrConnector;
  let sync: ReturnType<typeof startReferralSync>;
  const nvi = new Set<string>();
  const agreements = defaultAgreements();
  const env = {
    agreements: () => agreements,
    registerReferral: async (_t: NodeTenant, bsn: string, categories: string[]) => {
      for (const c of categories) nvi.add(`${bsn}|${c}`);
    },
    withdrawReferral: async (_t: NodeTenant, bsn: string, categories: string[]) => {
      for (const c of categories) nvi.delete(`${bsn}|${c}`);
    },
  } as unknown as NodeEnvironment;

  const write = async (method: string, path: string, body?: unknown): Promise<Resource> => {
    const res = await fetch(`${ehr.base}/${path}`, {
      method,
      headers: { accept: 'application/fhir+json', ...(body ? { 'content-type': 'application/fhir+json' } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    assert.ok(res.status < 300, `${method} ${path} → ${res.status}`);
    return (await res.json()) as Resource;
  };

  let patientId: string;
  before(async () => {
    ehr = await startMedplumEhr();
    store = await openIsolatedPgliteStore('node_medplum_test');
    await migrate(store, nodeMigrations);
    connector = new EhrConnector({ baseUrl: ehr.base, deadlineMs: 30_000 });
    sync = startReferralSync({ store, env, tenants: [TENANT], connectors: new Map([[TENANT.ura, connector]]), intervalMs: 0, log: pino({ level: 'silent' }) });
    const patient = await write('POST', 'Patient', { resourceType: 'Patient', identifier: [{ system: SYSTEM.bsn, value: BSN }], name: [{ family: 'Jansen' }] });
    patientId = patient.id as string;
  });
  after(async () => {
    await sync.stop();
    await connector.close();
    await store.close();
    await ehr.close();
  });

  it('has no system history, so the connector polls by _lastUpdated', async () => {
    assert.equal(await new EhrChangeFeed(connector, () => referralTypes(agreements)).mode(), 'search');
  });

  it('registers a referral when an allergy is written, serves it to the holder search, and withdraws it when deleted', async () => {
    const allergy = await write('POST', 'AllergyIntolerance', {
      resourceType: 'AllergyIntolerance',
      patient: { reference: `Patient/${patientId}` },
      clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical', code: 'active' }] },
      code: { text: 'Jodiumhoudend contrastmiddel' },
    });
    await sync.runOnce();
    assert.ok(nvi.has(`${BSN}|AllergyIntolerance`), [...nvi].join());

    const exchange = agreements.exchanges.find((e) => e.code === 'acute-zorg')!;
    const { bundle, patientRefs } = await searchEhr(
      connector,
      'https://node.test/org/90000102/fhir',
      'AllergyIntolerance',
      { 'patient:identifier': `${SYSTEM.bsn}|${BSN}`, 'clinical-status': 'active' },
      BSN,
      { exchange, categories: exchange.dataCategories },
    );
    assert.deepEqual(patientRefs, [`Patient/${patientId}`]);
    assert.deepEqual(bundle.entry?.map((e) => e.resource?.id), [allergy.id]);

    await write('DELETE', `AllergyIntolerance/${allergy.id}`);
    await sync.runOnce();
    assert.ok(!nvi.has(`${BSN}|AllergyIntolerance`), 'withdrawn once the EHR no longer has it');
  });

  it('registers vital signs by their category, and not a social-history observation', async () => {
    const observation = (code: string) => ({
      resourceType: 'Observation',
      status: 'final',
      category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code }] }],
      code: { text: code },
      subject: { reference: `Patient/${patientId}` },
    });
    await write('POST', 'Observation', observation('social-history'));
    await sync.runOnce();
    assert.ok(![...nvi].some((x) => x.includes('Observation')), [...nvi].join());
    await write('POST', 'Observation', observation('vital-signs'));
    await sync.runOnce();
    assert.ok([...nvi].some((x) => x === `${BSN}|ObservationVitalSigns`), [...nvi].join());
  });
});
