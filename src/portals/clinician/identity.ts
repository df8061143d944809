import { decodeJwt } from 'jose';
import { roleName } from '../../kit/identifiers/roles.ts';
import type { LoginResult } from '../oidc.ts';
import type { ClinicianIdentity } from '../ports.ts';

// Who logged in, for display and for carrying into network calls. The verklaring is decoded
// here only to show the name and organisation; the network's token service verifies it
// (signature, expiry, revocation, URA) before any data moves.

const str = (v: unknown): string | undefined => (typeof v === 'string' && v ? v : undefined);

export function clinicianFromLogin(login: LoginResult): ClinicianIdentity {
  const verklaring = str(login.claims.verklaring);
  let c: Record<string, unknown> = login.claims;
  if (verklaring) {
    try {
      c = { ...login.claims, ...decodeJwt(verklaring) };
    } catch {
      // An unreadable verklaring is the token service's to refuse; show the id_token's claims.
    }
  }
  const built = [str(c.voorletters), str(c.voorvoegsel), str(c.achternaam)].filter(Boolean).join(' ');
  const roleCode = str(c.rol_code);
  return {
    subject: login.subject,
    name: built || str(c.name) || login.subject,
    deziNumber: str(c.dezi_nummer),
    roleCode,
    roleName: str(c.rol_naam) ?? (roleCode ? roleName(roleCode) : undefined),
    ura: str(c.abonnee_nummer),
    organizationName: str(c.abonnee_naam),
    verklaring,
  };
}
