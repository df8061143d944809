import type { Patient, Resource } from '@medplum/fhirtypes';
import type { Logger } from 'pino';
import { SYSTEM } from '../../kit/identifiers/systems.ts';
import type { Store } from '../../kit/store/store.ts';
import type { AgreementsDocument } from '../../trust/contract.ts';
import type { NodeEnvironment, NodeTenant } from '../environment.ts';
import { type EhrChange, EhrChangeFeed } from './ehr-changes.ts';
import type { EhrConnector } from './ehr-connector.ts';

// Keeps the national referral index in step with the EHRs: when a tenant's EHR gains the first
// resource of a data category for a patient, register "this organisation has <category> about
// this patient"; when the last one goes, withdraw it. Strictly sequential per tenant, resumable
// from the stored cursor, idempotent (the NVI treats re-registration as harmless).

export interface ReferralSync {
  /** Runs one pass over every tenant now (tests, sandbox seeding). */
  runOnce(): Promise<{ registered: number; withdrawn: number }>;
  /** A change was announced (an EHR notification): a pass now, or right after the running one. */
  nudge(): void;
  stop(): Promise<void>;
}

/** Patients reconciled with the NVI at once: enough to overlap the round trips, few enough not to crowd the NVI. */
const SETTLE_CONCURRENCY = 4;

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
    // Another kind of observation (social history, say) is in no exchange: no referral for it.
    return undefined;
  }
  return candidates[0];
}

/** The resource types whose changes can make or end a referral: those the agreements' queries name. */
export function referralTypes(agreements: AgreementsDocument): string[] {
  return [...new Set(agreements.exchanges.flatMap((e) => e.queries.map((q) => q.resourceType)))].sort();
}

export function startReferralSync(o: ReferralSyncOptions): ReferralSync {
  const feeds = new Map<string, EhrChangeFeed>();
  const feedOf = (ura: string, connector: EhrConnector) => {
    let feed = feeds.get(ura);
    if (!feed) {
      feed = new EhrChangeFeed(connector, () => referralTypes(o.env.agreements()));
      feeds.set(ura, feed);
    }
    return feed;
  };
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<{ registered: number; withdrawn: number }> | null = null;
  let stopped = false;
  let queued: Promise<{ registered: number; withdrawn: number }> | null = null;

  async function bsnOf(connector: EhrConnector, patientId: string): Promise<string | undefined> {
    const p = await connector.read<Patient>('Patient', patientId).catch(() => undefined);
    return p?.identifier?.find((i) => i.system === SYSTEM.bsn)?.value;
  }

  /** The local patient id a resource is about (its patient or subject reference). */
  function patientOf(r: Resource): string | undefined {
    if (r.resourceType === 'Patient') return r.id;
    const x = r as { patient?: { reference?: string }; subject?: { reference?: string } };
    const ref = x.patient?.reference ?? x.subject?.reference;
    const m = ref ? /(?:^|\/)Patient\/([^/]+)$/.exec(ref) : null;
    return m?.[1];
  }

  /** What a change does to the holdings, read from the EHR before anything is written. */
  async function planChange(connector: EhrConnector, c: EhrChange): Promise<{ key: string; holding?: [string, string] }> {
    const key = `${c.resourceType}/${c.id}`;
    if (c.action === 'delete') return { key };
    // A history entry normally carries the resource; when it does not, read it (gone = no holding).
    const r = c.resource ?? (await connector.read<Resource>(c.resourceType, c.id).catch(() => undefined));
    if (!r) return { key };
    const patientId = patientOf(r);
    if (!patientId) return { key };
    const category = categoryOf(r as Resource & { category?: unknown }, o.env.agreements());
    return category ? { key, holding: [patientId, category] } : { key };
  }

  /**
   * Applies one page of changes in one transaction: the holdings, the (patient, category) pairs
   * they touch as pending reconciliation, and the cursor. A pair stays pending until the NVI has
   * been told, so a failed registration or withdrawal is retried, not forgotten.
   */
  async function applyPage(tenant: NodeTenant, plans: Array<{ key: string; holding?: [string, string] }>, cursor: string | undefined): Promise<void> {
    await o.store.transaction(async (tx) => {
      const pend = (patientId: string, category: string) =>
        tx.query('INSERT INTO referral_pending (tenant_ura, patient_id, category) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING', [tenant.ura, patientId, category]);
      for (const plan of plans) {
        const before = await tx.query<{ patient_id: string; category: string }>(
          'SELECT patient_id, category FROM referral_holdings WHERE tenant_ura = $1 AND resource_key = $2',
          [tenant.ura, plan.key],
        );
        for (const b of before) await pend(b.patient_id, b.category);
        if (!plan.holding) {
          await tx.query('DELETE FROM referral_holdings WHERE tenant_ura = $1 AND resource_key = $2', [tenant.ura, plan.key]);
          continue;
        }
        const [patientId, category] = plan.holding;
        await tx.query(
          `INSERT INTO referral_holdings (tenant_ura, resource_key, patient_id, category) VALUES ($1, $2, $3, $4)
           ON CONFLICT (tenant_ura, resource_key) DO UPDATE SET patient_id = EXCLUDED.patient_id, category = EXCLUDED.category`,
          [tenant.ura, plan.key, patientId, category],
        );
        await pend(patientId, category);
      }
      if (cursor !== undefined) {
        await tx.query('INSERT INTO referral_since (tenant_ura, since) VALUES ($1, $2) ON CONFLICT (tenant_ura) DO UPDATE SET since = EXCLUDED.since', [tenant.ura, cursor]);
      }
    });
  }

  /**
   * Brings one patient's referrals at the NVI in line with the holdings for the given categories:
   * one BSN read, at most one registration and one withdrawal call (the NVI takes several
   * categories in one transaction).
   */
  async function reconcilePatient(tenant: NodeTenant, connector: EhrConnector, patientId: string, categories: string[]): Promise<{ registered: number; withdrawn: number }> {
    const held = new Set(
      (
        await o.store.query<{ category: string }>('SELECT DISTINCT category FROM referral_holdings WHERE tenant_ura = $1 AND patient_id = $2 AND category = ANY($3)', [
          tenant.ura,
          patientId,
          categories,
        ])
      ).map((r) => r.category),
    );
    const registered = new Set(
      (
        await o.store.query<{ category: string }>('SELECT category FROM referral_registered WHERE tenant_ura = $1 AND patient_id = $2 AND category = ANY($3)', [
          tenant.ura,
          patientId,
          categories,
        ])
      ).map((r) => r.category),
    );
    const toRegister = categories.filter((c) => held.has(c) && !registered.has(c));
    const toWithdraw = categories.filter((c) => !held.has(c) && registered.has(c));
    if (toRegister.length === 0 && toWithdraw.length === 0) return { registered: 0, withdrawn: 0 };
    const bsn = await bsnOf(connector, patientId);
    if (!bsn) return { registered: 0, withdrawn: 0 }; // a patient without BSN cannot be localised nationally
    if (toRegister.length) {
      await o.env.registerReferral(tenant, bsn, toRegister);
      await o.store.query(
        'INSERT INTO referral_registered (tenant_ura, patient_id, category) SELECT $1, $2, unnest($3::text[]) ON CONFLICT DO NOTHING',
        [tenant.ura, patientId, toRegister],
      );
    }
    if (toWithdraw.length) {
      await o.env.withdrawReferral(tenant, bsn, toWithdraw);
      await o.store.query('DELETE FROM referral_registered WHERE tenant_ura = $1 AND patient_id = $2 AND category = ANY($3)', [tenant.ura, patientId, toWithdraw]);
    }
    return { registered: toRegister.length, withdrawn: toWithdraw.length };
  }

  /**
   * Tells the NVI about every pending pair, a few patients at a time (each patient's calls stay in
   * order); a patient whose call fails keeps its pairs pending for the next pass.
   */
  async function settle(tenant: NodeTenant, connector: EhrConnector, counts: { registered: number; withdrawn: number }): Promise<void> {
    const failed = new Set<string>();
    for (;;) {
      const pending = await o.store.query<{ patient_id: string; category: string }>(
        'SELECT patient_id, category FROM referral_pending WHERE tenant_ura = $1 ORDER BY patient_id, category LIMIT 500',
        [tenant.ura],
      );
      const byPatient = new Map<string, string[]>();
      for (const p of pending) {
        if (failed.has(p.patient_id)) continue;
        byPatient.set(p.patient_id, [...(byPatient.get(p.patient_id) ?? []), p.category]);
      }
      if (byPatient.size === 0) return;
      const queue = [...byPatient];
      const worker = async () => {
        for (let next = queue.shift(); next; next = queue.shift()) {
          const [patientId, categories] = next;
          try {
            const done = await reconcilePatient(tenant, connector, patientId, categories);
            counts.registered += done.registered;
            counts.withdrawn += done.withdrawn;
            await o.store.query('DELETE FROM referral_pending WHERE tenant_ura = $1 AND patient_id = $2 AND category = ANY($3)', [tenant.ura, patientId, categories]);
          } catch (err) {
            failed.add(patientId);
            o.log.warn({ err: (err as Error).message, tenant: tenant.ura, patient: patientId, categories }, 'referral not yet reconciled with the NVI; will retry');
          }
        }
      };
      await Promise.all(Array.from({ length: SETTLE_CONCURRENCY }, worker));
    }
  }

  async function syncTenant(tenant: NodeTenant): Promise<{ registered: number; withdrawn: number }> {
    const connector = o.connectors.get(tenant.ura)!;
    const counts = { registered: 0, withdrawn: 0 };
    // Whatever an earlier pass could not tell the NVI goes first.
    await settle(tenant, connector, counts);
    const [cursor] = await o.store.query<{ since: string }>('SELECT since FROM referral_since WHERE tenant_ura = $1', [tenant.ura]);
    const feed = feedOf(tenant.ura, connector);
    await feed.poll(cursor?.since, async (changes, next) => {
      const plans = [];
      for (const c of changes) plans.push(await planChange(connector, c));
      await applyPage(tenant, plans, next);
      await settle(tenant, connector, counts);
    });
    // Search polling sees no deletions: the held resources the EHR no longer has are withdrawn.
    if ((await feed.mode()) === 'search') {
      const held = await o.store.query<{ resource_key: string }>('SELECT resource_key FROM referral_holdings WHERE tenant_ura = $1 ORDER BY resource_key', [tenant.ura]);
      const gone = await feed.gone(held.map((h) => h.resource_key));
      if (gone.length) {
        await applyPage(tenant, gone.map((key) => ({ key })), undefined);
        await settle(tenant, connector, counts);
      }
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

  // A pass that starts after the call: one under way may have polled before the caller's change
  // (an EHR notification, a test's write), so a second is queued behind it (at most one).
  const runOnce = (): Promise<{ registered: number; withdrawn: number }> => {
    if (!running) {
      running = pass().finally(() => {
        running = null;
      });
      return running;
    }
    queued ??= running
      .catch(() => undefined)
      .then(() => {
        queued = null;
        return stopped ? { registered: 0, withdrawn: 0 } : runOnce();
      });
    return queued;
  };
  const nudge = () => {
    if (!stopped) void runOnce();
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
    nudge,
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running?.catch(() => {});
      await queued?.catch(() => {});
    },
  };
}
