import type { NetworkView } from '../kit/part.ts';
import type { UserContext } from './auth/claims.ts';
import { normalizeAudience } from './auth/verify.ts';
import type { AgreementsDocument } from './agreements/types.ts';
import { holdsQualification, type Participant } from './register/participants.ts';

// Which requested scopes a participant may hold, straight from the agreements document: the
// scope must be listed, its audience must be the resource asked for, the participant must
// hold the qualification it names (valid now) and be of an allowed organisation type, and a
// scope that needs a professional needs a verklaring.

export interface ScopeDecision {
  allowed: string[];
  refused: Array<{ scope: string; reason: string }>;
}

export function decideScopes(
  doc: AgreementsDocument,
  participant: Participant,
  requested: string[],
  context: { resource: string; user?: UserContext; network: NetworkView; at?: Date },
): ScopeDecision {
  const out: ScopeDecision = { allowed: [], refused: [] };
  const resource = normalizeAudience(context.resource);
  for (const scope of requested) {
    const def = doc.scopes.find((s) => s.scope === scope);
    let reason: string | null = null;
    if (!def) reason = 'not in the agreements';
    else if (def.audience !== 'node' && (!context.network.has(def.audience) || normalizeAudience(context.network.url(def.audience)) !== resource)) {
      reason = `only for the ${def.audience} part`;
    } else if (def.qualification && !holdsQualification(participant, def.qualification, context.at)) {
      reason = `needs qualification ${def.qualification}`;
    } else if (def.organizationTypes && !def.organizationTypes.includes(participant.organizationType)) {
      reason = `not for organisation type ${participant.organizationType}`;
    } else if (def.requiresUser && !context.user) {
      reason = 'needs a professional (jwt-bearer grant with a verklaring)';
    }
    if (reason) out.refused.push({ scope, reason });
    else out.allowed.push(scope);
  }
  return out;
}
