import type { Identifier, OrganizationAffiliation, Period, Reference } from '@medplum/fhirtypes';
import { forbidden, unprocessable } from '../kit/fhir/outcome.ts';
import { SYSTEM } from '../kit/identifiers/index.ts';
import type { Queryable } from '../kit/store/store.ts';
import { type DirectoryType, MANDATE, MANDATE_SCOPE } from './codes.ts';
import { logicalIdentifier, referencedId } from './references.ts';

// Who may write what (GF IG 0.10 §care services): a care provider (URA) writes its own entries;
// a vendor (KvK) writes only for care providers that mandated it with an active
// OrganizationAffiliation; mandates themselves are written by the care provider only.

/** The authenticated writer, from the mTLS peer (and, later, the access token). */
export interface Caller {
  ura?: string;
  kvk?: string;
}

type Entry = { resourceType: string; identifier?: Identifier[]; [k: string]: unknown };

/** The structural link from each type to the Organization it belongs to. */
const OWNER_LINK: Record<DirectoryType, string> = {
  Organization: 'partOf',
  Location: 'managingOrganization',
  HealthcareService: 'providedBy',
  Endpoint: 'managingOrganization',
  OrganizationAffiliation: 'organization',
};

async function organizationUra(q: Queryable, ref: Reference | undefined): Promise<string | undefined> {
  const direct = logicalIdentifier(ref, SYSTEM.ura);
  if (direct) return direct;
  const id = referencedId(ref, 'Organization');
  if (!id) return undefined;
  const rows = await q.query<{ owner_ura: string | null }>(
    "SELECT owner_ura FROM resources WHERE type = 'Organization' AND id = $1",
    [id],
  );
  return rows[0]?.owner_ura ?? undefined;
}

/**
 * The URA of the care provider an entry belongs to, from (a) an Organization's own URA,
 * (b) its link to an Organization (partOf / managingOrganization / providedBy / organization),
 * (c) the custodian URA that assigned its identifier. An Endpoint's managingOrganization is
 * usually the vendor (KvK), so (c) is what decides for the IG's own examples.
 * All present sources must agree; none → 422.
 */
export async function resolveOwnerUra(q: Queryable, type: DirectoryType, entry: Entry): Promise<string> {
  const found = new Set<string>();
  if (type === 'Organization') {
    for (const i of entry.identifier ?? []) if (i.system === SYSTEM.ura && i.value) found.add(i.value);
  }
  if (found.size === 0) {
    const linked = await organizationUra(q, entry[OWNER_LINK[type]] as Reference | undefined);
    if (linked) found.add(linked);
  }
  for (const i of entry.identifier ?? []) {
    const a = i.assigner?.identifier;
    if (a?.system === SYSTEM.ura && a.value) found.add(a.value);
  }
  if (found.size === 0) {
    throw unprocessable(
      `cannot tell which care provider this ${type} belongs to: give it a URA (Organization), a link to an Organization with a URA, or a custodian-assigned identifier with a URA assigner`,
    );
  }
  if (found.size > 1) {
    throw unprocessable(`this ${type} names more than one care provider (URA ${[...found].join(', ')}); they must agree`);
  }
  return [...found][0];
}

export function periodContains(period: Period | undefined, at: Date): boolean {
  if (!period) return true;
  if (period.start && Date.parse(period.start) > at.getTime()) return false;
  // An end date without time means "through that day".
  if (period.end) {
    const end = /^\d{4}-\d{2}-\d{2}$/.test(period.end) ? Date.parse(period.end) + 86_400_000 : Date.parse(period.end);
    if (end <= at.getTime()) return false;
  }
  return true;
}

async function isVendor(q: Queryable, ref: Reference | undefined, kvk: string): Promise<boolean> {
  if (logicalIdentifier(ref, SYSTEM.kvk) === kvk) return true;
  const id = referencedId(ref, 'Organization');
  if (!id) return false;
  const rows = await q.query("SELECT 1 FROM resources WHERE type = 'Organization' AND id = $1 AND resource->'identifier' @> $2::jsonb", [
    id,
    JSON.stringify([{ system: SYSTEM.kvk, value: kvk }]),
  ]);
  return rows.length > 0;
}

/** Active mandates of care provider `ura` granted to vendor `kvk` that cover `type`. */
export async function mandateCovers(q: Queryable, ura: string, kvk: string, type: DirectoryType, at = new Date()): Promise<boolean> {
  const rows = await q.query<{ resource: OrganizationAffiliation }>(
    "SELECT resource FROM resources WHERE type = 'OrganizationAffiliation' AND owner_ura = $1",
    [ura],
  );
  for (const { resource: m } of rows) {
    if (m.active === false || !periodContains(m.period, at)) continue;
    const codes = (m.code ?? []).flatMap((c) => c.coding ?? []).filter((c) => c.system === MANDATE.system);
    if (!codes.some((c) => MANDATE_SCOPE[c.code ?? '']?.includes(type))) continue;
    if (await isVendor(q, m.participatingOrganization, kvk)) return true;
  }
  return false;
}

/** Throws 403 unless `caller` may write a `type` entry of care provider `ownerUra`. */
export async function authorizeWrite(q: Queryable, caller: Caller, type: DirectoryType, ownerUra: string): Promise<void> {
  if (caller.ura && caller.ura === ownerUra) return;
  if (type === 'OrganizationAffiliation') {
    throw forbidden(`only care provider ${ownerUra} itself may create or change its mandates`);
  }
  if (caller.kvk && (await mandateCovers(q, ownerUra, caller.kvk, type))) return;
  const who = caller.ura ? `URA ${caller.ura}` : caller.kvk ? `vendor KvK ${caller.kvk}` : 'an unidentified caller';
  throw forbidden(`${who} may not write ${type} entries of care provider ${ownerUra}: no active mandate covers it`);
}
