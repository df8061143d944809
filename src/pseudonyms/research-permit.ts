import { forbidden } from '../kit/fhir/outcome.ts';
import { HDAB_ORGANIZATION_TYPE, type PermitClaims, PermitRefused, RESEARCH_ORGANIZATION_TYPE } from '../secondary-use/contract.ts';

// Before the PRS evaluates anything in a research domain it checks what the domain rests on: a
// data permit the HDAB signed (its published key, its issuer, not expired) and a caller who can be
// one of the permit's holders. Without this anyone with a PRS token could mint research pseudonyms
// for a made-up permit id and so link people across extracts. The domain is always the verified
// permit's jti, never a value the caller names.
//
// Who is a holder: an admitted participant in the trust register that holds the localisation
// qualification (the one a care provider needs to register referrals to data it holds), and is
// none of the network's participants that hold no patient data (the HDAB, research organisations,
// the network operator, a national contact point), and not the permit's own research organisation.

/** Organisation types that never hold patient data for an extraction. */
const NOT_HOLDER_TYPES: ReadonlySet<string> = new Set([HDAB_ORGANIZATION_TYPE, RESEARCH_ORGANIZATION_TYPE, 'NB', 'NCP']);

/** The trust register's view of a participant (GET /participants/<ura>). */
export interface RegisterParticipant {
  ura: string;
  status: string;
  organizationType: string;
  qualifications?: Array<{ qualification: string; validFrom?: string; validUntil?: string | null }>;
}

export interface ResearchPermitGateOptions {
  /** The permit check of the secondary-use contract (signature, issuer, times, shape). */
  verify(jws: string): Promise<PermitClaims>;
  /** The caller's register entry; null when unknown. Throws when the register cannot answer. */
  participant(ura: string): Promise<RegisterParticipant | null>;
  now?: () => number;
}

export type ResearchPermitGate = (permitJws: string, callerUra: string | undefined) => Promise<PermitClaims>;

const qualified = (p: RegisterParticipant, code: string, now: number) =>
  (p.qualifications ?? []).some((q) => q.qualification === code && (!q.validFrom || Date.parse(q.validFrom) <= now) && (!q.validUntil || Date.parse(q.validUntil) > now));

/** The permit's claims when the caller may have research pseudonyms under it; else a 403. */
export function researchPermitGate(o: ResearchPermitGateOptions): ResearchPermitGate {
  const now = o.now ?? Date.now;
  return async (permitJws, callerUra) => {
    let permit: PermitClaims;
    try {
      permit = await o.verify(permitJws);
    } catch (err) {
      throw forbidden(err instanceof PermitRefused ? `no research pseudonyms: ${err.message}` : 'no research pseudonyms: the permit cannot be verified');
    }
    if (!callerUra) throw forbidden('no research pseudonyms: the caller names no organisation');
    if (callerUra === permit.sub) throw forbidden('no research pseudonyms: the permit\'s research organisation is not a holder');
    let caller: RegisterParticipant | null;
    try {
      caller = await o.participant(callerUra);
    } catch {
      throw forbidden('no research pseudonyms: the trust register cannot confirm the caller (deny on error)');
    }
    if (caller?.status !== 'admitted') throw forbidden('no research pseudonyms: the caller is not an admitted participant');
    if (NOT_HOLDER_TYPES.has(caller.organizationType) || !qualified(caller, 'localization', now())) {
      throw forbidden('no research pseudonyms: only a data holder may ask for them');
    }
    return permit;
  };
}
