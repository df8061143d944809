import type { Bundle, BundleEntry } from '@medplum/fhirtypes';
import { badRequest, forbidden, HttpError } from '../kit/fhir/outcome.ts';
import type { Store } from '../kit/store/store.ts';
import { type ParsedRegistration, parseLocalizationList } from './list-resource.ts';
import { registerReferral, type SubjectHash, withdrawById, withdrawBySubject } from './referrals.ts';
import { parseSubjectParam, parseCodeParam } from './search-params.ts';
import { SubjectRefused } from './subject-hash.ts';

// A registration transaction: POST entries create referrals, DELETE entries remove them (by id or
// conditionally by subject + code); there are no updates. All entries are checked first (profile,
// custodian, pseudonym token), then applied in one database transaction: all or nothing.

export interface TransactionDeps {
  store: Store;
  /** URAs the caller may act as custodian for (from certificate and token). */
  custodians: readonly string[];
  acceptedCategories: ReadonlySet<string>;
  hashes(subjectValue: string): Promise<SubjectHash[]>;
}

type Planned =
  | { kind: 'create'; reg: ParsedRegistration; subject: SubjectHash[] }
  | { kind: 'delete-id'; id: string }
  | { kind: 'delete-subject'; subject: SubjectHash[]; category?: string };

async function hashesOr422(deps: TransactionDeps, value: string, where: string): Promise<SubjectHash[]> {
  try {
    return await deps.hashes(value);
  } catch (err) {
    if (err instanceof SubjectRefused) throw new SubjectRefused(`${where}: ${err.message}`);
    throw err;
  }
}

async function plan(entry: BundleEntry, i: number, deps: TransactionDeps): Promise<Planned> {
  const request = typeof entry === 'object' && entry !== null ? entry.request : undefined;
  const method = request?.method;
  const url = typeof request?.url === 'string' ? request.url : '';
  if (method === 'POST') {
    if (url !== 'List') throw badRequest(`entry ${i}: POST must target "List"`);
    const reg = parseLocalizationList(entry.resource, deps.acceptedCategories);
    if (!deps.custodians.includes(reg.custodian)) throw forbidden(`entry ${i}: you may register referrals only for your own organisation`);
    return { kind: 'create', reg, subject: await hashesOr422(deps, reg.subjectValue, `entry ${i}`) };
  }
  if (method === 'DELETE') {
    const byId = /^List\/([0-9a-f-]{36})$/i.exec(url);
    if (byId) return { kind: 'delete-id', id: byId[1] };
    if (url.startsWith('List?')) {
      const q = new URLSearchParams(url.slice(5));
      for (const k of q.keys()) if (k !== 'subject:identifier' && k !== 'code') throw badRequest(`entry ${i}: unsupported delete parameter ${k}`);
      const value = parseSubjectParam(q.get('subject:identifier') ?? undefined);
      const category = parseCodeParam(q.get('code') ?? undefined);
      return { kind: 'delete-subject', subject: await hashesOr422(deps, value, `entry ${i}`), category };
    }
    throw badRequest(`entry ${i}: DELETE must target List/<id> or List?subject:identifier=…`);
  }
  throw badRequest(`entry ${i}: only POST and DELETE are supported (no updates: delete and create)`);
}

export async function processTransaction(body: unknown, deps: TransactionDeps): Promise<Bundle> {
  const bundle = body as Bundle;
  if (bundle?.resourceType !== 'Bundle' || bundle.type !== 'transaction') throw badRequest('expected a Bundle of type transaction');
  const entries = bundle.entry ?? [];
  if (!Array.isArray(entries) || entries.length === 0) throw badRequest('the transaction has no entries');
  if (entries.length > 1000) throw new HttpError(413, 'too-costly', 'at most 1000 entries per transaction');
  const planned: Planned[] = [];
  for (const [i, entry] of entries.entries()) planned.push(await plan(entry, i, deps));
  const responses = await deps.store.transaction(async (tx) => {
    const out: BundleEntry[] = [];
    for (const p of planned) {
      if (p.kind === 'create') {
        const { referral, created } = await registerReferral(tx, { subject: p.subject, custodian: p.reg.custodian, category: p.reg.category, sourceClient: p.reg.sourceClient });
        out.push({ response: { status: created ? '201 Created' : '200 OK', location: `List/${referral.id}`, lastModified: referral.created } });
      } else if (p.kind === 'delete-id') {
        let result = 'not-custodian';
        for (const c of deps.custodians) {
          result = await withdrawById(tx, p.id, c);
          if (result !== 'not-custodian') break;
        }
        if (result === 'not-custodian') throw forbidden('you may delete only your own referrals');
        // Deleting what is already gone succeeds: withdrawal is idempotent like registration.
        out.push({ response: { status: '204 No Content' } });
      } else {
        // Conditional delete touches only the caller's own referrals; no match is a success too.
        for (const c of deps.custodians) await withdrawBySubject(tx, p.subject, c, p.category);
        out.push({ response: { status: '204 No Content' } });
      }
    }
    return out;
  });
  return { resourceType: 'Bundle', type: 'transaction-response', entry: responses };
}
