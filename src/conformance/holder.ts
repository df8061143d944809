import type { Bundle, OperationOutcome, Resource } from '@medplum/fhirtypes';
import { SYSTEM } from '../kit/identifiers/systems.ts';
import { type AgreementsDocument, type AllowedQuery, exchangeByCode } from '../trust/contract.ts';
import { probeFhirBase } from './fhir-base.ts';
import type { AuditLogVerifier } from './audit-log.ts';
import type { Check, Probe } from './types.ts';

// The network's requirements of a holder (a node's open interface at /org/<URA>/fhir), checked
// from outside as a requester: declared = served, tokens required, every allow-listed query of
// the exchange answered, everything else refused, answers limited to the decided categories and
// to the one patient, within the deadline.

export interface HolderCheckOptions {
  /** The holder's FHIR base, e.g. https://node/org/90000102/fhir. */
  target: string;
  /** Calls as the requester, with an access token for the exchange. */
  probe: Probe;
  /** Calls as the requester's certificate without any token. */
  probeWithoutToken: Probe;
  agreements: AgreementsDocument;
  exchange: string;
  /** A test patient the holder has data about. */
  bsn: string;
  /** Longest acceptable answer time per search (ms). */
  deadlineMs: number;
  /**
   * The network's transparency log, to see the holder's accesses arrive (its audit outbox
   * delivers them); absent: the audit rule is not checked.
   */
  transparencyLog?: { treeSize(): Promise<number>; waitMs: number };
  /**
   * The holder's own audit log through the audit-verify interface (audit-log.ts), with the trace
   * id the probe sends on every call; absent: the rule is reported as not checked (a failure).
   */
  auditLog?: { traceId: string; verify: AuditLogVerifier; waitMs?: number };
}

const patientParam = (bsn: string) => `${SYSTEM.bsn}|${bsn}`;

/**
 * The search URL an allow-listed query stands for, with the listed values that restrict it
 * (category). `_include` is optional for a requester and left out: the overview does not send it.
 */
export function allowListedSearch(q: AllowedQuery, bsn: string): string {
  const params = new URLSearchParams();
  params.set(q.resourceType === 'Patient' ? 'identifier' : 'patient:identifier', patientParam(bsn));
  for (const [name, values] of Object.entries(q.values ?? {})) if (name !== '_include') params.set(name, values.join(','));
  return `${q.resourceType}?${params.toString()}`;
}

function referenceOfPatient(r: Resource): string | undefined {
  const x = r as { patient?: { reference?: string }; subject?: { reference?: string } };
  return x.patient?.reference ?? x.subject?.reference;
}

function categoryCodes(r: Resource): string[] {
  const c = (r as { category?: unknown }).category;
  return (Array.isArray(c) ? c : c ? [c] : []).flatMap((cc: { coding?: Array<{ code?: string }> }) => (cc.coding ?? []).map((x) => x.code ?? ''));
}

export async function checkHolder(o: HolderCheckOptions): Promise<Check[]> {
  const checks: Check[] = [];
  const check = (rule: string, ok: boolean, detail: string) => checks.push({ rule, ok, detail });
  checks.push(...(await probeFhirBase(o.target, o.probe, { searches: true })).checks);

  const exchange = exchangeByCode(o.agreements, o.exchange);
  if (!exchange) {
    check('exchange.known', false, `the agreements define no exchange ${o.exchange}`);
    return checks;
  }
  const logBefore = o.transparencyLog ? await o.transparencyLog.treeSize().catch(() => undefined) : undefined;
  const anonymous = await o.probeWithoutToken(`${o.target}/Patient?identifier=${encodeURIComponent(patientParam(o.bsn))}`);
  check('token.required', anonymous.status === 401 && (anonymous.body as OperationOutcome)?.resourceType === 'OperationOutcome', `search without an access token → ${anonymous.status}`);

  const patients = await o.probe(`${o.target}/Patient?identifier=${encodeURIComponent(patientParam(o.bsn))}`);
  const patientIds = new Set(((patients.body as Bundle)?.entry ?? []).map((e) => e.resource).filter((r) => r?.resourceType === 'Patient').map((r) => `Patient/${r?.id}`));
  check('patient.found', patients.status === 200 && patientIds.size > 0, `Patient search for the test patient → ${patients.status}, ${patientIds.size} record(s)`);

  let answeredQueries = 0;
  for (const q of exchange.queries) {
    const search = allowListedSearch(q, o.bsn);
    const name = `${exchange.code}.${q.resourceType}${q.values?.category ? `.${q.values.category.join('+')}` : ''}`;
    const started = Date.now();
    const res = await o.probe(`${o.target}/${search}`);
    const ms = Date.now() - started;
    const bundle = res.body as Bundle;
    const answered = res.status === 200 && bundle?.resourceType === 'Bundle' && bundle.type === 'searchset';
    check(`${name}.answered`, answered, `${search.split('?')[0]} (allow-listed) → ${res.status}`);
    check(`${name}.deadline`, ms <= o.deadlineMs, `answered in ${ms} ms (limit ${o.deadlineMs} ms)`);
    if (!answered) continue;
    answeredQueries++;
    const matches = (bundle.entry ?? []).filter((e) => e.search?.mode !== 'include' && e.resource).map((e) => e.resource as Resource);
    const wrongType = matches.filter((r) => r.resourceType !== q.resourceType);
    const allowedCategories = q.values?.category;
    const outside = allowedCategories ? matches.filter((r) => !categoryCodes(r).some((c) => allowedCategories.includes(c))) : [];
    check(
      `${name}.categories`,
      wrongType.length === 0 && outside.length === 0,
      wrongType.length + outside.length === 0
        ? `${matches.length} match(es), all of the queried type and permitted categories`
        : `outside the decision: ${[...wrongType, ...outside].map((r) => `${r.resourceType}/${r.id}`).join(', ')}`,
    );
    if (q.resourceType !== 'Patient') {
      const foreign = matches.filter((r) => {
        const ref = referenceOfPatient(r);
        return ref !== undefined && ![...patientIds].some((p) => ref === p || ref.endsWith(`/${p}`));
      });
      check(`${name}.one-patient`, foreign.length === 0, foreign.length ? `about another patient: ${foreign.map((r) => `${r.resourceType}/${r.id}`).join(', ')}` : 'every match is about the test patient');
    }
  }

  // Refusals: a value the exchange does not list, and a parameter no query lists.
  const limited = exchange.queries.find((q) => q.values && Object.keys(q.values).some((k) => k !== '_include'));
  if (limited) {
    const param = Object.keys(limited.values ?? {}).find((k) => k !== '_include') as string;
    const url = `${o.target}/${limited.resourceType}?patient:identifier=${encodeURIComponent(patientParam(o.bsn))}&${param}=conformance-unlisted`;
    const res = await o.probe(url);
    check('refuses.unlisted-value', res.status === 403 && (res.body as OperationOutcome)?.resourceType === 'OperationOutcome', `${limited.resourceType}?${param}=<unlisted value> → ${res.status}`);
  }
  const other = await o.probe(`${o.target}/Patient?identifier=${encodeURIComponent(patientParam(o.bsn))}&_ldn-unlisted=1`);
  check('refuses.unlisted-parameter', other.status === 400 || other.status === 403, `Patient?_ldn-unlisted=1 → ${other.status}`);
  const badBsn = await o.probe(`${o.target}/Patient?identifier=${encodeURIComponent(`${SYSTEM.bsn}|123456789`)}`);
  check('refuses.invalid-bsn', badBsn.status === 400, `Patient?identifier=<BSN failing the 11-test> → ${badBsn.status}`);
  checks.push(await auditWritten(o.auditLog, answeredQueries));
  if (o.transparencyLog) checks.push(await auditArrived(o.transparencyLog, logBefore));
  return checks;
}

/**
 * Every access is logged in the holder's hash-chained audit log: the chain verifies and holds at
 * least one record of the kit's trace per allow-listed search it answered.
 */
async function auditWritten(log: HolderCheckOptions['auditLog'], answered: number): Promise<Check> {
  const rule = 'audit.written';
  if (!log) return { rule, ok: false, detail: 'not checked: give the kit the holder\'s audit log (--audit-schema) to verify' };
  const until = Date.now() + (log.waitMs ?? 10_000);
  for (;;) {
    const v = await log.verify(log.traceId).catch((err: Error) => ({ intact: false, records: 0, detail: `audit log unreadable: ${err.message}` }));
    const ok = v.intact && answered > 0 && v.records >= answered;
    if (ok || Date.now() >= until || !v.intact) return { rule, ok, detail: `${v.detail}; ${answered} answered search(es) to account for` };
    await new Promise((r) => setTimeout(r, 500));
  }
}

/**
 * Every access by a verified requester is logged and reaches the transparency log: after the
 * accesses above, the log must grow. (Other traffic could grow it too: a pass is necessary, not
 * sufficient evidence; a holder that logs nothing fails.)
 */
async function auditArrived(log: NonNullable<HolderCheckOptions['transparencyLog']>, before: number | undefined): Promise<Check> {
  if (before === undefined) return { rule: 'audit.reaches-transparency-log', ok: false, detail: 'the transparency log\'s tree head could not be read' };
  const until = Date.now() + log.waitMs;
  let size = before;
  while (Date.now() < until) {
    size = await log.treeSize().catch(() => size);
    if (size > before) break;
    await new Promise((r) => setTimeout(r, 1000));
  }
  return { rule: 'audit.reaches-transparency-log', ok: size > before, detail: `transparency log size ${before} → ${size} within ${log.waitMs} ms of the accesses` };
}
