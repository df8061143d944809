import type { Reference } from '@medplum/fhirtypes';

// Small helpers for the references directory entries carry (literal or logical by identifier).

/** `Organization/abc`, `https://x/fhir/Organization/abc` or `Organization/abc/_history/2` → id. */
export function referencedId(ref: Reference | undefined, type: string): string | undefined {
  const r = ref?.reference;
  if (typeof r !== 'string') return undefined;
  const m = new RegExp(`(?:^|/)${type}/([A-Za-z0-9\\-.]{1,64})(?:/_history/[^/]+)?$`).exec(r);
  return m ? m[1] : undefined;
}

export function logicalIdentifier(ref: Reference | undefined, system: string): string | undefined {
  const id = ref?.identifier;
  return id && id.system === system && typeof id.value === 'string' ? id.value : undefined;
}

/** Replaces every `reference` string found in `map` (transaction urn:uuid fullUrls). */
export function rewriteReferences(value: unknown, map: ReadonlyMap<string, string>): unknown {
  if (Array.isArray(value)) return value.map((v) => rewriteReferences(v, map));
  if (value && typeof value === 'object') {
    // fromEntries defines own properties, so a "__proto__" key in a body stays data.
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, k === 'reference' && typeof v === 'string' && map.has(v) ? map.get(v) : rewriteReferences(v, map)]),
    );
  }
  return value;
}
