import type { ExchangeDefinition } from '../../trust/contract.ts';

// SMART v2 patient scopes and the network's data categories. An app asks for resource scopes
// (patient/MedicationStatement.rs); the citizen grants per data category (medication, allergies,
// ...), the way her consent choices are made. Reading is limited to the granted categories;
// patient/Observation.c is the separate permission to share measurements back.

export const SHARE_SCOPE = 'patient/Observation.c';
/** The pseudo-category the grant screen shows for sharing measurements back. */
export const SHARE_PERMISSION = 'share-measurements';
const PASS_THROUGH = new Set(['openid', 'fhirUser', 'launch/patient', 'offline_access']);
const READ = /^patient\/(\*|[A-Z][A-Za-z]+)\.(r?s?|read)$/;

export interface RequestedAccess {
  /** Data categories the app asks to read (citizen-access categories, Patient excluded). */
  categories: string[];
  /** The app asks to share measurements back. */
  share: boolean;
  /** Scopes that are neither (kept as asked when allowed). */
  other: string[];
}

/** Categories a resource type's searches carry in the citizen-access exchange ('*' = all). */
export function categoriesOfType(exchange: ExchangeDefinition, type: string): string[] {
  const qs = exchange.queries.filter((q) => q.dataCategory !== 'Patient' && (type === '*' || q.resourceType === type));
  return [...new Set(qs.map((q) => q.dataCategory))];
}

/** What a scope string asks for, limited to what the register allows the app; unknown scopes are dropped. */
export function requestedAccess(scope: string, allowed: string[], exchange: ExchangeDefinition): RequestedAccess {
  const categories = new Set<string>();
  let share = false;
  const other: string[] = [];
  const allowedSet = new Set(allowed);
  for (const s of scope.split(/\s+/).filter(Boolean)) {
    if (!allowedSet.has(s) && !(READ.test(s) && allowedSet.has(`patient/*.${READ.exec(s)![2]}`))) continue;
    if (s === SHARE_SCOPE) share = true;
    else if (PASS_THROUGH.has(s)) other.push(s);
    else {
      const m = READ.exec(s);
      if (m && m[2] !== '') for (const c of categoriesOfType(exchange, m[1])) categories.add(c);
    }
  }
  return { categories: [...categories], share, other };
}

/** The scopes granted: the asked read scopes that still cover a granted category, and the rest as granted. */
export function grantedScopes(scope: string, granted: { categories: string[]; share: boolean; other: string[] }, exchange: ExchangeDefinition): string[] {
  const out = new Set<string>(granted.other);
  for (const s of scope.split(/\s+/).filter(Boolean)) {
    const m = READ.exec(s);
    if (m && m[2] !== '' && categoriesOfType(exchange, m[1]).some((c) => granted.categories.includes(c))) out.add(s);
    if (s === SHARE_SCOPE && granted.share) out.add(s);
  }
  return [...out];
}
