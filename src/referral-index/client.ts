import type { Bundle, BundleEntry, List } from '@medplum/fhirtypes';
import type { PartClient } from '../kit/http/client.ts';
import { CODE_SYSTEM, EXTENSION, SYSTEM } from '../kit/identifiers/systems.ts';
import type { TraceContext } from '../kit/trace.ts';
import { InvalidBsnError, PrsClient } from '../pseudonyms/contract.ts';
import { EXCHANGE_HEADER, NVI_READ_SCOPE, NVI_WRITE_SCOPE } from './part.ts';

// The node's side of localisation, for one acting organisation (its PartClient carries that
// organisation's certificate and tokens). Every call pseudonymises the BSN afresh at the PRS for
// the NVI; the token is used for that one request and never kept. Registration and withdrawal are
// idempotent: repeat them freely (e.g. after a restart or on every EHR sync).

export interface Holder {
  ura: string;
  categories: string[];
}

export interface ReferralClientOptions {
  client: PartClient;
  nviUrl: string;
  prsUrl: string;
  /** URA of the organisation this client acts for (the custodian of its registrations). */
  ura: string;
  /** OAuth client id of the registering software (List.source). */
  sourceClientId: string;
}

interface Recipient {
  recipientOrganization: string;
  recipientScope: string;
}

export class ReferralClient {
  private readonly prs: PrsClient;
  private recipient: Promise<Recipient> | null = null;

  constructor(private readonly o: ReferralClientOptions) {
    this.prs = new PrsClient(o.client, o.prsUrl);
  }

  /** Whom PRS tokens for the NVI are addressed to; asked once from the NVI itself. */
  private nviRecipient(): Promise<Recipient> {
    this.recipient ??= this.o.client.json<Recipient>(`${this.o.nviUrl}/.well-known/pseudonym-recipient`).catch((err) => {
      this.recipient = null;
      throw err;
    });
    return this.recipient;
  }

  private async token(bsn: string, trace?: TraceContext): Promise<string> {
    const r = await this.nviRecipient();
    return this.prs.pseudonymise(bsn, r.recipientOrganization, r.recipientScope, { trace });
  }

  private async transaction(entries: BundleEntry[], trace?: TraceContext): Promise<Bundle> {
    const bundle: Bundle = { resourceType: 'Bundle', type: 'transaction', entry: entries };
    return this.o.client.json<Bundle>(`${this.o.nviUrl}/`, { method: 'POST', body: bundle, scope: NVI_WRITE_SCOPE, trace, idempotent: true /* referrals have a natural key */ });
  }

  /** Registers "we hold data of these categories for this patient". Throws InvalidBsnError first. */
  async register(bsn: string, categories: string[], options: { trace?: TraceContext } = {}): Promise<void> {
    if (categories.length === 0) return;
    const token = await this.token(bsn, options.trace);
    await this.transaction(
      categories.map((category) => ({ resource: this.list(token, category), request: { method: 'POST', url: 'List' } })),
      options.trace,
    );
  }

  /** Withdraws our referrals for this patient (all categories, or the given ones). */
  async withdraw(bsn: string, categories?: string[], options: { trace?: TraceContext } = {}): Promise<void> {
    const token = await this.token(bsn, options.trace);
    const subject = `subject:identifier=${encodeURIComponent(`${SYSTEM.nviIdentifier}|${token}`)}`;
    const urls = categories?.length
      ? categories.map((c) => `List?${subject}&code=${encodeURIComponent(`${CODE_SYSTEM.dataCategories}|${c}`)}`)
      : [`List?${subject}`];
    await this.transaction(urls.map((url) => ({ request: { method: 'DELETE', url } })), options.trace);
  }

  /** Which organisations hold data for this patient, within the exchange's data categories. */
  async localise(bsn: string, options: { exchange: string; category?: string; trace?: TraceContext }): Promise<Holder[]> {
    const token = await this.token(bsn, options.trace);
    const params = new URLSearchParams({ 'subject:identifier': `${SYSTEM.nviIdentifier}|${token}` });
    if (options.category) params.set('code', `${CODE_SYSTEM.dataCategories}|${options.category}`);
    const bundle = await this.o.client.json<Bundle<List>>(`${this.o.nviUrl}/List?${params}`, {
      scope: NVI_READ_SCOPE,
      headers: { [EXCHANGE_HEADER]: options.exchange },
      trace: options.trace,
    });
    const byUra = new Map<string, Set<string>>();
    for (const e of bundle.entry ?? []) {
      const ura = e.resource?.extension?.find((x) => x.url === EXTENSION.localizationCustodian)?.valueReference?.identifier?.value;
      const code = e.resource?.code?.coding?.find((c) => c.system === CODE_SYSTEM.dataCategories)?.code;
      if (!ura || !code) continue;
      if (!byUra.has(ura)) byUra.set(ura, new Set());
      byUra.get(ura)?.add(code);
    }
    return [...byUra].map(([ura, cats]) => ({ ura, categories: [...cats].sort() })).sort((a, b) => a.ura.localeCompare(b.ura));
  }

  private list(token: string, category: string): List {
    return {
      resourceType: 'List',
      extension: [{ url: EXTENSION.localizationCustodian, valueReference: { identifier: { system: SYSTEM.ura, value: this.o.ura } } }],
      status: 'current',
      mode: 'working',
      code: { coding: [{ system: CODE_SYSTEM.dataCategories, code: category }] },
      subject: { identifier: { system: SYSTEM.nviIdentifier, value: token } },
      source: { identifier: { system: SYSTEM.oauthClientId, value: this.o.sourceClientId } },
      emptyReason: { coding: [{ system: CODE_SYSTEM.listEmptyReason, code: 'withheld' }] },
    };
  }
}

export { InvalidBsnError };
