// The Dezi verklaring (attestation) as a claims object: who the professional is, for which
// organisation (abonnee = URA) and in which role. Field names follow Dezi's JWT exactly.

export interface VerklaringClaims {
  jti: string;
  iss: string;
  exp: number;
  nbf: number;
  json_schema: string;
  loa_dezi: string;
  verklaring_id: string;
  dezi_nummer: string;
  voorletters: string;
  /** Dezi sends null when there is no prefix. */
  voorvoegsel: string | null;
  achternaam: string;
  abonnee_nummer: string;
  abonnee_naam: string;
  rol_code: string;
  rol_naam: string;
  rol_code_bron: string;
  status_uri: string;
}

export const REQUIRED_STRING_CLAIMS = [
  'jti',
  'iss',
  'json_schema',
  'loa_dezi',
  'verklaring_id',
  'dezi_nummer',
  'voorletters',
  'achternaam',
  'abonnee_nummer',
  'abonnee_naam',
  'rol_code',
  'rol_naam',
  'rol_code_bron',
  'status_uri',
] as const satisfies readonly (keyof VerklaringClaims)[];

/** The person's display name from a verklaring, e.g. "M. van Dijk". */
export function professionalName(c: Pick<VerklaringClaims, 'voorletters' | 'voorvoegsel' | 'achternaam'>): string {
  return [c.voorletters, c.voorvoegsel, c.achternaam].filter(Boolean).join(' ');
}
