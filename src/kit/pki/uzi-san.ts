import { UZI_SAN_OID } from '../identifiers/systems.ts';

// UZI server certificates name their holder in a SAN otherName (type-id 2.5.5.5, IA5String):
//   2.16.528.1.1007.99.2110-1-<systemnr>-S-<URA>-00.000-<AGB>
// Vendors without a URA get a KvK in a SAN URI "urn:kvk:<number>" instead (LDN convention).

export const OTHER_NAME_TYPE_ID = '2.5.5.5';

export interface UziName {
  systemNumber: string;
  ura: string;
  agb: string;
}

export function formatUziOtherName(name: UziName): string {
  for (const [k, v] of Object.entries(name)) {
    if (!/^\d{1,12}$/.test(v)) throw new Error(`UZI ${k} must be digits: ${v}`);
  }
  return `${UZI_SAN_OID}-1-${name.systemNumber}-S-${name.ura}-00.000-${name.agb}`;
}

const PATTERN = /^2\.16\.528\.1\.1007\.99\.2110-1-(\d{1,12})-S-(\d{1,12})-00\.000-(\d{1,12})$/;

export function parseUziOtherName(value: string): UziName | null {
  const m = PATTERN.exec(value);
  return m ? { systemNumber: m[1], ura: m[2], agb: m[3] } : null;
}

export function formatKvkUri(kvk: string): string {
  if (!/^\d{8}$/.test(kvk)) throw new Error(`KvK must be 8 digits: ${kvk}`);
  return `urn:kvk:${kvk}`;
}

export function parseKvkUri(uri: string): string | null {
  const m = /^urn:kvk:(\d{8})$/.exec(uri);
  return m ? m[1] : null;
}
