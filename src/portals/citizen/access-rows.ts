import type { AccessEntry } from '../ports.ts';

// One access to the citizen's data leaves events on both sides: the requester's and one per holder
// that was asked. A holder's event is written by the holder, so its own organisation is the holder
// and the one who looked is the other party. Here they become one line per access (one trace):
// who looked (the requesting organisation and professional) and whose data was read. The
// citizen's own look at her data (exchange citizen-access) is labelled as hers, or as her app's
// when an app she authorised asked (the holders name the app where a professional would stand).
// A holder's export of her data under a data permit (secondary use) is a row of its own, one per
// permit: which research organisation, for what purpose, from which holders; never a result.

export const CITIZEN_OWN_EXCHANGE = 'citizen-access';

/** What the transparency part tells the portal about one logged event, beyond AccessEntry. */
export interface LoggedAccess extends AccessEntry {
  /** Which side wrote the event: the requester, or a holder that served (or refused) it. */
  side?: 'requester' | 'holder';
  /** The requester in a holder's event; the holder in a requester's event (when known). */
  otherPartyUra?: string;
  otherPartyName?: string;
  /** Same for all events of one access (derived from the trace id). */
  accessGroup?: string;
  /** A holder exported her data for this data permit (secondary use). */
  research?: ResearchUse;
}

export interface ResearchUse {
  permitId: string;
  purpose?: string;
  organisationUra?: string;
  organisationName?: string;
}

export interface HolderRead {
  ura: string;
  name?: string;
  refused: boolean;
}

export interface AccessRow {
  /** The citizen herself, one of her apps, a care provider, or research under a data permit. */
  kind: 'self' | 'app' | 'professional' | 'research';
  /** Kind research: the permit, its research organisation and purpose. */
  research?: ResearchUse;
  /** The app that asked on her behalf (kind app). */
  appName?: string;
  when: string;
  accessorUra?: string;
  accessorName?: string;
  professionalName?: string;
  roleCode?: string;
  roleName?: string;
  exchange?: string;
  /** Categories actually served (by holders that answered), else those asked for. */
  dataCategories: string[];
  /** Organisations whose data was read (or that refused). */
  holders: HolderRead[];
  emergency: boolean;
  emergencyReason?: string;
  /** No data was shown at all. */
  refused: boolean;
  /** Every event of the line is proven to be in the log. */
  inLog: boolean;
  eventIds: string[];
}

type Verified = LoggedAccess & { inLog: boolean };

const isOwn = (e: LoggedAccess) => e.exchange === CITIZEN_OWN_EXCHANGE;

export function accessRows(entries: readonly Verified[]): AccessRow[] {
  const groups = new Map<string, Verified[]>();
  for (const e of entries) {
    const key = e.research ? `research:${e.research.permitId}` : `${isOwn(e) ? 'self' : 'pro'}:${e.accessGroup ?? `event:${e.eventId}`}`;
    const list = groups.get(key);
    if (list) list.push(e);
    else groups.set(key, [e]);
  }
  return [...groups.values()].map(rowOf).sort((a, b) => b.when.localeCompare(a.when));
}

function rowOf(events: Verified[]): AccessRow {
  if (events[0].research) return researchRowOf(events);
  const holderEvents = events.filter((e) => e.side === 'holder');
  // Events without a side (older logs) are read as before: their organisation looked.
  const requesterEvents = events.filter((e) => e.side !== 'holder');
  const requester = requesterEvents[0];
  const firstHolder = holderEvents[0];
  const withRole = [...requesterEvents, ...holderEvents].find((e) => e.roleCode);
  const served = holderEvents.filter((e) => !e.refused);
  const categories = holderEvents.length ? served.flatMap((e) => e.dataCategories) : (requester?.dataCategories ?? []);
  const own = isOwn(events[0]);
  const appName = own ? events.find((e) => e.professionalName)?.professionalName : undefined;
  return {
    kind: own ? (appName ? 'app' : 'self') : 'professional',
    appName,
    when: events.map((e) => e.when).sort()[0] ?? '',
    accessorUra: own ? undefined : requester ? requester.organizationUra : firstHolder?.otherPartyUra,
    accessorName: own ? undefined : requester ? requester.organizationName : firstHolder?.otherPartyName,
    professionalName: own ? undefined : (requester?.professionalName ?? withRole?.professionalName),
    roleCode: own ? undefined : withRole?.roleCode,
    roleName: own ? undefined : withRole?.roleName,
    exchange: events[0].exchange,
    dataCategories: [...new Set(categories)],
    holders: holderEvents.map((e) => ({ ura: e.organizationUra, name: e.organizationName, refused: e.refused === true })),
    emergency: events.some((e) => e.emergency),
    emergencyReason: events.find((e) => e.emergency && e.emergencyReason)?.emergencyReason,
    refused: holderEvents.length ? served.length === 0 : requester?.refused === true,
    inLog: events.every((e) => e.inLog),
    eventIds: events.map((e) => e.eventId),
  };
}

/** One permit's use of her data: every holder that exported her under it, the categories they sent. */
function researchRowOf(events: Verified[]): AccessRow {
  const research = events[0].research as ResearchUse;
  return {
    kind: 'research',
    research: { ...research, organisationName: events.find((e) => e.research?.organisationName)?.research?.organisationName },
    when: events.map((e) => e.when).sort()[0] ?? '',
    accessorUra: research.organisationUra,
    accessorName: events.find((e) => e.research?.organisationName)?.research?.organisationName,
    exchange: events[0].exchange,
    dataCategories: [...new Set(events.flatMap((e) => e.dataCategories))],
    holders: events.map((e) => ({ ura: e.organizationUra, name: e.organizationName, refused: false })),
    emergency: false,
    refused: false,
    inLog: events.every((e) => e.inLog),
    eventIds: events.map((e) => e.eventId),
  };
}
