import { createHash } from 'node:crypto';
import type { AuditEvent } from '@medplum/fhirtypes';
import { UZI_ROLES } from '../../kit/identifiers/roles.ts';
import { CODE_SYSTEM, SYSTEM } from '../../kit/identifiers/systems.ts';
import type { Queryable } from '../../kit/store/store.ts';
import { type AgreementsDocument, exchangeByCode } from '../../trust/contract.ts';
import { summarizeAuditEvent } from '../event.ts';
import { AUDIT_CODE_SYSTEM, AUDIT_EXTENSION, AUDIT_SYSTEM } from '../uris.ts';
import { CROSS_BORDER_NAME_PREFIX } from '../../ncpeh/contract.ts';
import { PERMIT_DETAIL_RESEARCH_ORGANISATION, PERMIT_IDENTIFIER_SYSTEM } from '../../secondary-use/contract.ts';

// What a citizen sees of an access: who (organisation, role, and the professional's name only
// where the exchange's agreements allow it), when, which categories, why, emergency or not.
// Professional numbers, client ids, queries and trace ids stay out of the citizen's view. The
// portal also gets the side and the other party (a holder's event names the requester there) and
// an opaque access group derived from the trace id, so it can show the requester's and the
// holders' events of one access as one line without learning the trace id.

export interface CitizenAccessEntry {
  eventId: string;
  leafIndex: number;
  when: string;
  organizationUra: string;
  organizationName?: string;
  roleCode?: string;
  roleName?: string;
  professionalName?: string;
  exchange?: string;
  dataCategories: string[];
  purposeOfUse?: string;
  emergency: boolean;
  emergencyReason?: string;
  side?: string;
  /** The other side: the requester in a holder's event, the holder in a requester's event. */
  otherPartyUra?: string;
  otherPartyName?: string;
  /** Same for every event of one access (one W3C trace id); not the trace id itself. */
  accessGroup?: string;
  /** True when the holder refused or the access failed (no data was shown). */
  refused?: boolean;
  /** Set when a holder put the citizen's data in a data permit's extract: which permit, for whom, why. */
  research?: { permitId: string; purpose?: string; organisationUra?: string; organisationName?: string };
}

export interface CitizenViewOptions {
  /** Current agreements; without them, professional names are never shown (deny by default). */
  agreements?: () => AgreementsDocument | undefined;
  organizationName?: (ura: string) => string | undefined;
}

/** Opaque key shared by the events of one access: a hash of the trace id, which itself stays out. */
export function accessGroupOf(traceId: string): string {
  return createHash('sha256').update(`ldn-access-group:${traceId}`).digest('base64url').slice(0, 22);
}

export function toCitizenEntry(event: AuditEvent, leafIndex: number, options: CitizenViewOptions = {}): CitizenAccessEntry {
  const s = summarizeAuditEvent(event);
  const agreements = options.agreements?.();
  const exchange = agreements ? exchangeByCode(agreements, s.exchange) : undefined;
  const ura = s.organizationUra ?? '';
  return {
    eventId: s.id ?? '',
    leafIndex,
    when: s.recorded ?? '',
    organizationUra: ura,
    organizationName: options.organizationName?.(ura),
    roleCode: s.roleCode,
    roleName: s.roleCode ? UZI_ROLES[s.roleCode] : undefined,
    // A foreign professional (through the NCPeH) is named only by country and organisation: always shown.
    professionalName: exchange?.showProfessionalNameToCitizen || s.professionalName?.startsWith(CROSS_BORDER_NAME_PREFIX) ? s.professionalName : undefined,
    exchange: s.exchange,
    dataCategories: s.dataCategories,
    purposeOfUse: s.purposeOfUse,
    emergency: s.emergency,
    emergencyReason: s.emergencyReason,
    side: s.side,
    otherPartyUra: s.otherPartyUra,
    otherPartyName: s.otherPartyUra ? options.organizationName?.(s.otherPartyUra) : undefined,
    accessGroup: s.traceId ? accessGroupOf(s.traceId) : undefined,
    refused: s.outcome !== undefined && s.outcome !== '0',
    research: s.research ? { ...s.research, organisationName: s.research.organisationUra ? options.organizationName?.(s.research.organisationUra) : undefined } : undefined,
  };
}

/**
 * The citizen entry as a reduced FHIR AuditEvent (for the searchset Bundle). It carries its leaf
 * index (extension) so the portal can check inclusion; the patient's pseudonym is left out (the
 * portal does not need it, and it would link this answer to the log's index).
 */
export function citizenAuditEvent(
  entry: CitizenAccessEntry,
  /** @deprecated ignored (kept so existing callers compile): the answer carries no pseudonym. */
  _pseudonym?: string,
): AuditEvent {
  return JSON.parse(
    JSON.stringify({
      resourceType: 'AuditEvent',
      id: entry.eventId,
      extension: [
        { url: AUDIT_EXTENSION.leafIndex, valueInteger: entry.leafIndex },
        ...(entry.emergency ? [{ url: AUDIT_EXTENSION.emergencyReason, valueString: entry.emergencyReason ?? '' }] : []),
      ],
      type: { system: AUDIT_CODE_SYSTEM.eventType, code: 'rest' },
      recorded: entry.when,
      outcome: entry.refused ? '4' : '0',
      purposeOfEvent: [
        {
          coding: [
            { system: CODE_SYSTEM.purposeOfUse, code: entry.purposeOfUse },
            ...(entry.emergency ? [{ system: CODE_SYSTEM.purposeOfUse, code: 'BTG', display: 'break the glass' }] : []),
          ],
        },
      ],
      agent: [
        {
          type: { coding: [{ system: AUDIT_CODE_SYSTEM.participationType, code: 'PRF', display: 'performer' }] },
          who: { identifier: { system: SYSTEM.ura, value: entry.organizationUra }, display: entry.organizationName },
          requestor: !entry.roleCode,
        },
        // The professional, or (no role) the citizen's app that asked on her behalf.
        ...(entry.roleCode || entry.professionalName
          ? [
              {
                role: entry.roleCode ? [{ coding: [{ system: SYSTEM.uziRole, code: entry.roleCode, display: entry.roleName }] }] : undefined,
                who: entry.professionalName ? { display: entry.professionalName } : undefined,
                requestor: true,
              },
            ]
          : []),
        ...(entry.otherPartyUra && (entry.side === 'holder' || entry.side === 'requester')
          ? [
              {
                // As in the full event: the client (requester) when this is a holder's event.
                type: { coding: [{ system: AUDIT_CODE_SYSTEM.dicom, code: entry.side === 'holder' ? '110153' : '110152' }] },
                who: { identifier: { system: SYSTEM.ura, value: entry.otherPartyUra }, display: entry.otherPartyName },
                requestor: false,
              },
            ]
          : []),
      ],
      source: { observer: { identifier: { system: SYSTEM.ura, value: entry.organizationUra } } },
      entity: [
        { role: { system: AUDIT_CODE_SYSTEM.objectRole, code: '1', display: 'Patient' } },
        {
          role: { system: AUDIT_CODE_SYSTEM.objectRole, code: '4', display: 'Domain Resource' },
          what: entry.exchange ? { identifier: { system: CODE_SYSTEM.exchange, value: entry.exchange } } : undefined,
          securityLabel: entry.dataCategories.map((code) => ({ system: CODE_SYSTEM.dataCategories, code })),
          detail: entry.side ? [{ type: 'side', valueString: entry.side }] : undefined,
        },
        ...(entry.accessGroup ? [{ what: { identifier: { system: AUDIT_SYSTEM.accessGroup, value: entry.accessGroup } } }] : []),
        // The permit the data was used for (never the research pseudonym or any result).
        ...(entry.research
          ? [
              {
                what: { identifier: { system: PERMIT_IDENTIFIER_SYSTEM, value: entry.research.permitId } },
                description: entry.research.purpose,
                detail: entry.research.organisationUra
                  ? [
                      { type: PERMIT_DETAIL_RESEARCH_ORGANISATION, valueString: entry.research.organisationUra },
                      ...(entry.research.organisationName ? [{ type: `${PERMIT_DETAIL_RESEARCH_ORGANISATION}-name`, valueString: entry.research.organisationName }] : []),
                    ]
                  : undefined,
              },
            ]
          : []),
      ],
    }),
  ) as AuditEvent;
}

/** Path of the public inclusion proof of one event (append &size=<tree size> to pin the head). */
export function inclusionProofPath(eventId: string): string {
  return `/proof/inclusion?id=${encodeURIComponent(eventId)}`;
}

/** Accesses to one citizen (their pseudonyms under every active PRS key version), newest first. */
export async function citizenAccessEntries(
  q: Queryable,
  pseudonyms: string | readonly string[],
  page: { count: number; offset: number },
  options: CitizenViewOptions = {},
): Promise<{ entries: CitizenAccessEntry[]; total: number }> {
  const list = typeof pseudonyms === 'string' ? [pseudonyms] : [...pseudonyms];
  const rows = await q.query<{ idx: string; body: string }>(
    'SELECT idx, body FROM tlog_entry WHERE pseudonym = ANY($1::text[]) ORDER BY idx DESC LIMIT $2 OFFSET $3',
    [list, page.count, page.offset],
  );
  const [{ n }] = await q.query<{ n: string }>('SELECT count(*) AS n FROM tlog_entry WHERE pseudonym = ANY($1::text[])', [list]);
  return {
    entries: rows.map((r) => toCitizenEntry(JSON.parse(r.body) as AuditEvent, Number(r.idx), options)),
    total: Number(n),
  };
}
