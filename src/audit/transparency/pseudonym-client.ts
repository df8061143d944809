import type { PartClient } from '../../kit/http/client.ts';
import type { TraceContext } from '../../kit/trace.ts';
import { InvalidBsnError, isRecipientOrganization, isRecipientScope, type PrsClient } from '../../pseudonyms/contract.ts';
import { isValidBsn } from '../../kit/identifiers/bsn.ts';

// What a node (for its AuditEvents) and the citizen portal (for the citizen view) call to name a
// citizen to the transparency part: a PRS token addressed to it. The part's recipient name is
// asked once per transparency URL (public /.well-known/pseudonym-recipient) and cached; the
// token itself is single-use and must be neither cached nor logged.

export interface PseudonymRecipient {
  recipientOrganization: string;
  recipientScope: string;
}

const recipients = new Map<string, Promise<PseudonymRecipient>>();

/** The transparency part's PRS recipient (organisation + scope), cached per URL; a failure is not cached. */
export function transparencyRecipient(partClient: PartClient, transparencyUrl: string, trace?: TraceContext): Promise<PseudonymRecipient> {
  const base = transparencyUrl.replace(/\/+$/, '');
  let hit = recipients.get(base);
  if (!hit) {
    hit = partClient.json<PseudonymRecipient>(`${base}/.well-known/pseudonym-recipient`, { trace }).then((r) => {
      if (typeof r?.recipientOrganization !== 'string' || !isRecipientOrganization(r.recipientOrganization)) {
        throw new Error('transparency part announced no valid recipientOrganization');
      }
      if (typeof r.recipientScope !== 'string' || !isRecipientScope(r.recipientScope)) throw new Error('transparency part announced no valid recipientScope');
      return { recipientOrganization: r.recipientOrganization, recipientScope: r.recipientScope };
    });
    recipients.set(base, hit);
    hit.catch(() => recipients.delete(base));
  }
  return hit;
}

/**
 * A PRS pseudonym token for `bsn` addressed to the transparency part: put it in
 * AuditEventInput.patient.transparencyPseudonymToken (node) or ?patient-token= (portal).
 * Throws InvalidBsnError before any network call for an invalid BSN.
 */
export async function transparencyPseudonymToken(
  prsClient: PrsClient,
  partClient: PartClient,
  transparencyUrl: string,
  bsn: string,
  trace?: TraceContext,
): Promise<string> {
  if (!isValidBsn(bsn)) throw new InvalidBsnError();
  const to = await transparencyRecipient(partClient, transparencyUrl, trace);
  return prsClient.pseudonymise(bsn, to.recipientOrganization, to.recipientScope, { trace });
}
