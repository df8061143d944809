import type { Patient, Resource } from '@medplum/fhirtypes';
import type { Logger } from 'pino';
import { SYSTEM } from '../../kit/identifiers/systems.ts';
import type { Store } from '../../kit/store/store.ts';
import type { AgreementsDocument } from '../../trust/agreements/types.ts';
import type { NodeEnvironment, NodeTenant } from '../environment.ts';
import type { EhrChange, EhrConnector } from './ehr-connector.ts';

// Keeps the national referral index in step with the EHRs: when a tenant's EHR gains the first
// resource of a data category for a patient, register "this organisation has <category> about
// this patient"; when the last one goes, withdraw it. Strictly sequential per tenant, resumable
// from the stored cursor, idempotent (the NVI treats re-registration as harmless).

export interface ReferralSync {
  /** Runs one pass over every tenant now (tests, sandbox seeding). */
  runOnce(): Promise<{ registered: number; withdrawn: number }>;
  stop(): Promise<void>;
}

export interface ReferralSyncOptions {
  store: Store;
  env: NodeEnvironment;
  tenants: NodeTenant[];
  connectors: Map<string, EhrConnector>;
  intervalMs: number;
  log: Logger;
}

/** The GF data category of a resource according to the agreements' allow-listed queries. */
export function categoryOf(resource: { resourceType: string; category?: unknown }, agreements: AgreementsDocument): string | undefined {
  const candidates = [...new Set(agreements.exchanges.flatMap((e) => e.queries).filter((q) => q.resourceType === resource.resourceType).map((q) => q.dataCategory))];
  if (candidates.length <= 1) return candidates[0];
  if (resource.resourceType === 'Observation') {
    const codes = JSON.stringify(resource.category ?? []);
    if (codes.includes('"vital-signs"')) return candidates.find((c) => c.includes('VitalSigns'));
    if (codes.includes('"laboratory"')) return candidates.find((c) => c.includes('Laboratory'));
  }
  return candidates[0];
}

export function startReferralSync(o: ReferralSyncOptions): ReferralSync {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<{ registered: number; withdrawn: number }> | null = null;
  let stopped = false;

  async function bsnOf(connector: EhrConnector, patientId: string): Promise<string | undefined> {
    const p = await connector.read<Patient>('Patient', patientId).catch(() => undefined);
    return p?.identifier?.find((i) => i.system === SYSTEM.bsn)?.value;
  }

  async function applyChange(tenant: NodeTenant, connector: EhrConnector, c: EhrChange): Promise<Array<[string, string]>> {
    const key = `${c.resourceType}/${c.id}`;
    const touched: Array<[string, string]> = [];
    const before = await o.store.query<{ patient_id: string; category: string }>(
      'SELECT patient_id, category FROM referral_holdings WHERE tenant_ura = $1 AND resource_key = $2',
      [tenant.ura, key],
    );
    for (const b of before) touched.push([b.patient_id, b.category]);
    if (c.action === 'delete') {
      await o.store.query('DELETE FROM referral_holdings WHERE tenant_ura = $1 AND resource_key = $2', [tenant.ura, key]);
      return touched;
    }
    const patientId = c.resourceType === 'Patient' ? c.id : c.patient?.replace(/^Patient\//, '');
    if (!patientId) return touched;
    let category = categoryOf({ resourceType: c.resourceType }, o.env.agreements());
    if (c.resourceType === 'Observation') {
      const r = await connector.read<Resource & { category?: unknown }>(c.resourceType, c.id).catch(() => undefined);
      if (r) category = categoryOf(r, o.env.agreements());
    }
    if (!category) return touched;
    await o.store.query(
      `INSERT INTO referral_holdings (tenant_ura, resource_key, patient_id, category) VALUES ($1, $2, $3, $4)
       ON CONFLICT (tenant_ura, resource_key) DO UPDATE SET patient_id = EXCLUDED.patient_id, category = EXCLUDED.category`,
      [tenant.ura, key, patientId, category],
    );
    touched.push([patientId, category]);
    return touched;
  }

  async function reconcile(tenant: NodeTenant, connector: EhrConnector, patientId: string, category: string): Promise<'registered' | 'withdrawn' | null> {
    const [held] = await o.store.query<{ n: string }>(
      'SELECT count(*) AS n FROM referral_holdings WHERE tenant_ura = $1 AND patient_id = $2 AND category = $3',
      [tenant.ura, patientId, category],
    );
    const [reg] = await o.store.query('SELECT 1 FROM referral_registered WHERE tenant_ura = $1 AND patient_id = $2 AND category = $3', [
      tenant.ura,
      patientId,
      category,
    ]);
    const holds = Number(held.n) > 0;
    if (holds === Boolean(reg)) return null;
    const bsn = await bsnOf(connector, patientId);
    if (!bsn) return null; // a patient without BSN cannot be localised nationally
    if (holds) {
      await o.env.registerReferral(tenant, bsn, category);
      await o.store.query('INSERT INTO referral_registered (tenant_ura, patient_id, category) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING', [
        tenant.ura,
        patientId,
        category,
      ]);
      return 'registered';
    }
    await o.env.withdrawReferral(tenant, bsn, category);
    await o.store.query('DELETE FROM referral_registered WHERE tenant_ura = $1 AND patient_id = $2 AND category = $3', [tenant.ura, patientId, category]);
    return 'withdrawn';
  }

  async function syncTenant(tenant: NodeTenant): Promise<{ registered: number; withdrawn: number }> {
    const connector = o.connectors.get(tenant.ura)!;
    const counts = { registered: 0, withdrawn: 0 };
    const [cursor] = await o.store.query<{ seq: string }>('SELECT seq FROM referral_cursor WHERE tenant_ura = $1', [tenant.ura]);
    let since = cursor ? Number(cursor.seq) : 0;
    for (;;) {
      const { changes, next } = await connector.changes(since, 500);
      if (changes.length === 0) break;
      const touched = new Map<string, [string, string]>();
      for (const c of changes) for (const t of await applyChange(tenant, connector, c)) touched.set(t.join('\n'), t);
      for (const [patientId, category] of touched.values()) {
        const done = await reconcile(tenant, connector, patientId, category);
        if (done) counts[done]++;
      }
      since = next;
      await o.store.query(
        'INSERT INTO referral_cursor (tenant_ura, seq) VALUES ($1, $2) ON CONFLICT (tenant_ura) DO UPDATE SET seq = EXCLUDED.seq',
        [tenant.ura, since],
      );
      if (stopped) break;
    }
    return counts;
  }

  async function pass(): Promise<{ registered: number; withdrawn: number }> {
    const total = { registered: 0, withdrawn: 0 };
    for (const t of o.tenants) {
      try {
        const c = await syncTenant(t);
        total.registered += c.registered;
        total.withdrawn += c.withdrawn;
      } catch (err) {
        // Resume from the stored cursor next time; the failing tenant does not stop the others.
        o.log.warn({ err: (err as Error).message, tenant: t.ura }, 'referral sync failed; will retry');
      }
    }
    return total;
  }

  const runOnce = () => {
    running ??= pass().finally(() => {
      running = null;
    });
    return running;
  };

  const schedule = () => {
    if (stopped || o.intervalMs <= 0) return;
    timer = setTimeout(async () => {
      await runOnce();
      schedule();
    }, o.intervalMs + Math.random() * o.intervalMs * 0.2);
    timer.unref();
  };
  schedule();

  return {
    runOnce,
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running?.catch(() => {});
    },
  };
}
