import { randomUUID } from 'node:crypto';
import { conflict, notFound } from '../kit/fhir/outcome.ts';
import type { Queryable, Store } from '../kit/store/store.ts';
import type { PermitApplication } from './application.ts';
import type { PermitClaims } from './contract.ts';
import type { PermitSigner } from './permit-jws.ts';

// Permits over the HDAB's store: an application is decided once (granted or refused, in one
// conditional UPDATE, so two operators cannot both decide it); a granted permit carries its signed
// JWS and expires at its end, when its workspace is destroyed.

export type PermitStatus = 'applied' | 'granted' | 'refused' | 'expired';
export type WorkspaceState = 'none' | 'extracting' | 'ready' | 'failed' | 'destroyed';

export interface Permit {
  id: string;
  applicantUra: string;
  status: PermitStatus;
  application: PermitApplication;
  appliedAt: string;
  decidedAt?: string;
  decidedBy?: string;
  decisionReason?: string;
  jws?: string;
  workspace: WorkspaceState;
  extraction?: unknown;
}

type Row = {
  id: string;
  applicant_ura: string;
  status: PermitStatus;
  application: Record<string, unknown> | string;
  applied_at: Date | string;
  decided_at: Date | string | null;
  decided_by: string | null;
  decision_reason: string | null;
  jws: string | null;
  workspace: WorkspaceState;
  extraction: unknown;
};

const iso = (v: Date | string): string => (v instanceof Date ? v : new Date(v)).toISOString();

function fromRow(r: Row): Permit {
  const a = (typeof r.application === 'string' ? JSON.parse(r.application) : r.application) as Record<string, unknown>;
  return {
    id: r.id,
    applicantUra: r.applicant_ura,
    status: r.status,
    application: { ...(a as unknown as PermitApplication), periodStart: new Date(a.periodStart as string), periodEnd: new Date(a.periodEnd as string) },
    appliedAt: iso(r.applied_at),
    ...(r.decided_at ? { decidedAt: iso(r.decided_at) } : {}),
    ...(r.decided_by ? { decidedBy: r.decided_by } : {}),
    ...(r.decision_reason ? { decisionReason: r.decision_reason } : {}),
    ...(r.jws ? { jws: r.jws } : {}),
    workspace: r.workspace,
    ...(r.extraction ? { extraction: typeof r.extraction === 'string' ? JSON.parse(r.extraction) : r.extraction } : {}),
  };
}

export class PermitStore {
  constructor(private readonly store: Store) {}

  async apply(applicantUra: string, application: PermitApplication): Promise<Permit> {
    const id = randomUUID();
    const [row] = await this.store.query<Row>('INSERT INTO permit (id, applicant_ura, status, application) VALUES ($1, $2, $3, $4) RETURNING *', [
      id, applicantUra, 'applied', JSON.stringify(application),
    ]);
    return fromRow(row);
  }

  async get(id: string): Promise<Permit> {
    const [row] = /^[0-9a-f-]{36}$/.test(id) ? await this.store.query<Row>('SELECT * FROM permit WHERE id = $1', [id]) : [];
    if (!row) throw notFound(`permit ${id} does not exist`);
    return fromRow(row);
  }

  async list(applicantUra?: string): Promise<Permit[]> {
    const rows = applicantUra
      ? await this.store.query<Row>('SELECT * FROM permit WHERE applicant_ura = $1 ORDER BY applied_at DESC', [applicantUra])
      : await this.store.query<Row>('SELECT * FROM permit ORDER BY applied_at DESC');
    return rows.map(fromRow);
  }

  /** Grants (signing the permit) or refuses an application that is still undecided. */
  async decide(
    id: string,
    decision: { grant: boolean; by: string; reason: string },
    sign: { signer: PermitSigner; issuer: string; now?: Date },
  ): Promise<Permit> {
    return this.store.transaction(async (tx) => {
      const [current] = await tx.query<Row>('SELECT * FROM permit WHERE id = $1 FOR UPDATE', [id]);
      if (!current) throw notFound(`permit ${id} does not exist`);
      if (current.status !== 'applied') throw conflict(`permit ${id} was already decided (${current.status})`);
      const permit = fromRow(current);
      let jws: string | null = null;
      if (decision.grant) jws = await sign.signer.sign(claimsOf(permit, sign.issuer, sign.now ?? new Date()));
      const [row] = await tx.query<Row>(
        `UPDATE permit SET status = $2, decided_at = now(), decided_by = $3, decision_reason = $4, jws = $5, nbf = $6, exp = $7
         WHERE id = $1 AND status = 'applied' RETURNING *`,
        [id, decision.grant ? 'granted' : 'refused', decision.by, decision.reason, jws, permit.application.periodStart, permit.application.periodEnd],
      );
      return fromRow(row);
    });
  }

  async setWorkspace(id: string, state: WorkspaceState, extraction?: unknown, q: Queryable = this.store): Promise<void> {
    await q.query('UPDATE permit SET workspace = $2, extraction = COALESCE($3, extraction) WHERE id = $1', [id, state, extraction === undefined ? null : JSON.stringify(extraction)]);
  }

  /** Extractions cut off by a restart: marked failed, so the operator can start them again. */
  async failInterrupted(): Promise<number> {
    const rows = await this.store.query<{ id: string }>(
      `UPDATE permit SET workspace = 'failed', extraction = '{"error":"interrupted by a restart of the HDAB"}' WHERE workspace = 'extracting' RETURNING id`,
    );
    return rows.length;
  }

  /** Marks granted permits past their end as expired; returns their ids (their workspaces go next). */
  async expireDue(now = new Date()): Promise<string[]> {
    const rows = await this.store.query<{ id: string }>("UPDATE permit SET status = 'expired' WHERE status = 'granted' AND exp <= $1 RETURNING id", [now]);
    return rows.map((r) => r.id);
  }

  /** Expired permits whose workspace is still on record as existing (a crash between the two steps). */
  async workspacesToDestroy(): Promise<string[]> {
    const rows = await this.store.query<{ id: string }>("SELECT id FROM permit WHERE status = 'expired' AND workspace <> 'destroyed'");
    return rows.map((r) => r.id);
  }
}

export function claimsOf(permit: Permit, issuer: string, now: Date): PermitClaims {
  const a = permit.application;
  return {
    iss: issuer,
    jti: permit.id,
    sub: permit.applicantUra,
    iat: Math.floor(now.getTime() / 1000),
    nbf: Math.floor(a.periodStart.getTime() / 1000),
    exp: Math.floor(a.periodEnd.getTime() / 1000),
    purpose: a.purpose,
    legal_basis: a.legalBasis,
    categories: a.categories,
    cohort: a.cohort,
    types: a.types,
    date_precision: a.datePrecision,
    min_cell: a.minCell,
  };
}
