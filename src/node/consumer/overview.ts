import type { Bundle, BundleEntry, OperationOutcome } from '@medplum/fhirtypes';
import { type AuditOutcome, buildAuditEvent, localPatientReference } from '../../audit/contract.ts';
import { HttpError } from '../../kit/fhir/outcome.ts';
import { PartClient, UpstreamError } from '../../kit/http/client.ts';
import { SYSTEM } from '../../kit/identifiers/systems.ts';
import { formatTraceparent, type TraceContext } from '../../kit/trace.ts';
import { type ExchangeDefinition, TokenRequestError, TrustTokenProvider, type UserContext } from '../../trust/contract.ts';
import type { NodeEnvironment, NodeTenant } from '../environment.ts';
import { logAccessOrDeny } from '../source/access-log.ts';
import { askHolder, isLate, type HolderBatch, withinDeadline } from '../integration/ask-holder.ts';
import { type HolderResult, mergeOverview } from '../integration/merge.ts';
import { FanOutLimiter, type FanOutLimits, mapBounded } from './fan-out-limit.ts';
import { EMERGENCY_HEADER } from '../contract.ts';

// The data-integration function: for one patient and one exchange, localise (PRS + NVI) →
// address (directory replica) → a token per holder (carrying the clinician's verklaring) →
// one batch of allow-listed searches per holder, all in parallel under one deadline → merge.
// What arrives in time is used; every data category a holder did not release is said per
// category (suppressed by the patient's choice or the policy, incomplete, timeout).
//
// What the requester learns about holders (the rule; also under emergency access, since the
// agreements have no exception for it):
// - a holder whose organisation type the exchange's agreements do not list as a holder
//   (holderOrganizationTypes) is neither asked nor named, whatever the referral index says;
//   a holder whose type cannot be checked in time is not asked either (deny on error);
// - a holder that refused on the patient's choice (an objection, or no consent where one is
//   needed), or because it could not check that choice (consent registry down), is not named:
//   not as a source, not in a warning, not in the list of holders asked.
//   Only the data category is said to be withheld, without the holder, and it is said for every
//   category the patient's choice covers at any holder asked, whether or not data exists there;
// - a holder that refused on policy, failed or timed out is named, with the categories it did not answer.

/** An ask already parsed and authorised (overview-operation.ts): a valid BSN, an exchange she may request. */
export interface OverviewRequest {
  tenant: NodeTenant;
  bsn: string;
  exchange: ExchangeDefinition;
  user: UserContext;
  /** The clinician's Dezi verklaring, presented to each holder's authorisation server. */
  verklaring: string;
  emergencyReason?: string;
  trace: TraceContext;
}

export interface OverviewResult {
  bundle: Bundle;
  holders: Array<{ ura: string; name: string; status: string; elapsedMs: number }>;
}

export interface OverviewService {
  overview(req: OverviewRequest): Promise<OverviewResult>;
  close(): Promise<void>;
}

export interface OverviewOptions {
  env: NodeEnvironment;
  /** Overall deadline for the fan-out (ms). */
  deadlineMs: number;
  maxResponseBytes?: number;
  /** Per-requester bounds on the fan-out (default DEFAULT_FAN_OUT_LIMITS). */
  fanOut?: FanOutLimits;
}

interface TenantClient {
  client: PartClient;
  tokens: TrustTokenProvider;
}

/**
 * One batch for a holder: every search of the exchange, each with the data categories its
 * answer may hold. Every holder is asked for every category of the exchange, not only those the
 * referral index lists for it, so that a refusal on the patient's choice is said for a category
 * whether or not any holder has data in it.
 */
export function batchFor(exchange: ExchangeDefinition, bsn: string): HolderBatch {
  const patient = `${SYSTEM.bsn}|${bsn}`;
  const byUrl = new Map<string, string[]>();
  for (const q of exchange.queries) {
    const url = q.resourceType === 'Patient' ? `Patient?identifier=${encodeURIComponent(patient)}` : `${q.resourceType}?patient:identifier=${encodeURIComponent(patient)}`;
    const list = byUrl.get(url) ?? [];
    if (!list.includes(q.dataCategory)) list.push(q.dataCategory);
    byUrl.set(url, list);
  }
  const entry: BundleEntry[] = [...byUrl.keys()].map((url) => ({ request: { method: 'GET', url } }));
  return { bundle: { resourceType: 'Bundle', type: 'batch', entry }, categories: [...byUrl.values()] };
}

/** Why an overview could not be made at all: the referral index gave no answer in time. */
export const LOCALISATION_TIMEOUT = 'the referral index (PRS + NVI) did not answer within the overview deadline';

function localisationFailure(err: unknown, deadlineMs: number): HttpError {
  if (isLate(err)) {
    return new HttpError(504, 'timeout', `${LOCALISATION_TIMEOUT} (${deadlineMs} ms); no holder could be asked`);
  }
  // The URL of a failed call carries a single-use pseudonym token: only the status is told.
  const why = err instanceof UpstreamError ? `HTTP ${err.status}` : 'no answer';
  return new HttpError(502, 'transient', `the referral index (PRS + NVI) could not be asked (${why}); no holder could be asked`);
}

/** What the audit event names of the exchange (also for a request naming an unknown one). */
type AuditedExchange = { code: string; dataCategories: string[] };

/**
 * The requester's audit event, written before the overview is answered: when it cannot be written
 * the clinician gets ERR_NODE_AUDIT_UNAVAILABLE (503) and no overview.
 */
export async function auditOverview(
  env: NodeEnvironment,
  req: Omit<OverviewRequest, 'exchange'>,
  exchange: AuditedExchange,
  result: { outcome: AuditOutcome; description: string },
): Promise<void> {
  // The BSN is sealed in the outbox only; the PRS token naming the patient to the transparency
  // part is fetched at delivery, so the overview neither waits for it nor loses the log line.
  await logAccessOrDeny(
    env,
    buildAuditEvent({
      who: {
        professionalNumber: req.user.deziNumber,
        professionalName: req.user.name,
        roleCode: req.user.roleCode,
        organizationUra: req.tenant.ura,
        clientId: req.tenant.ura,
      },
      what: { exchange: exchange.code, dataCategories: exchange.dataCategories, interaction: 'operation', query: 'Patient/$overview', side: 'requester' },
      patient: { localReference: localPatientReference(undefined, 'overview', req.trace.traceId) },
      why: { purposeOfUse: req.emergencyReason ? 'ETREAT' : 'TREAT', emergencyReason: req.emergencyReason },
      outcome: result.outcome,
      outcomeDescription: result.description,
      traceparent: formatTraceparent(req.trace),
    }),
    { bsn: req.bsn },
  );
}

export function createOverviewService(options: OverviewOptions): OverviewService {
  const clients = new Map<string, TenantClient>();
  const clientFor = (tenant: NodeTenant): TenantClient => {
    let c = clients.get(tenant.ura);
    if (!c) {
      const tokenClient = new PartClient({ tls: tenant.identity, maxRetries: 0 });
      const tokens = new TrustTokenProvider({
        tls: tenant.identity,
        ura: tenant.ura,
        client: tokenClient,
        // Every node runs its own authorisation server at the root of its origin.
        tokenEndpoint: (resource) => `${new URL(resource).origin}/oauth/token`,
      });
      c = { client: new PartClient({ tls: tenant.identity, tokens, maxRetries: 0, connections: 16 }), tokens };
      clients.set(tenant.ura, c);
    }
    return c;
  };

  function queryHolder(req: OverviewRequest, exchange: ExchangeDefinition, holder: { ura: string; name?: string }, deadlineAt: number): Promise<HolderResult> {
    const { client } = clientFor(req.tenant);
    return askHolder({
      holder,
      batch: batchFor(exchange, req.bsn),
      deadlineAt,
      deadlineMs: options.deadlineMs,
      address: async () => {
        const endpoint = await options.env.endpoint(holder.ura, exchange.code);
        return endpoint ? { name: endpoint.name, address: endpoint.address } : null;
      },
      noAddressReason: `no active endpoint for ${exchange.code} in the care-services directory`,
      send: (address, bundle, remainingMs) =>
        client.call<Bundle | OperationOutcome>(address, {
          method: 'POST',
          body: bundle,
          scope: exchange.scopes[0],
          resource: address.replace(/\/fhir\/?$/, ''),
          userAssertion: req.verklaring,
          deadlineMs: remainingMs,
          trace: req.trace,
          maxResponseBytes: options.maxResponseBytes ?? 10 * 1024 * 1024,
          headers: req.emergencyReason ? { [EMERGENCY_HEADER]: encodeURIComponent(req.emergencyReason) } : {},
        }),
      refusalOf: (err) => (err instanceof TokenRequestError ? `token refused: ${err.description}` : undefined),
    });
  }

  /**
   * The located holders the exchange's agreements list as holders (by organisation type, from
   * the trust register). Unlisted types are dropped unnamed; so is a holder whose type cannot be
   * checked in time (deny on error), with an unnamed warning.
   */
  async function listedHolders(exchange: ExchangeDefinition, located: Array<{ ura: string }>, deadlineAt: number, warnings: string[]) {
    const views = await Promise.all(located.map((h) => withinDeadline(options.env.participant(h.ura), deadlineAt).catch(() => undefined)));
    let unchecked = 0;
    const listed: Array<{ ura: string; name: string }> = [];
    views.forEach((view, i) => {
      if (view === undefined) unchecked++;
      else if (view && exchange.holderOrganizationTypes.includes(view.type)) listed.push({ ura: located[i].ura, name: view.name });
    });
    if (unchecked > 0) warnings.push(`${unchecked} holder(s) could not be checked against the agreements in time and were not asked`);
    return listed;
  }

  const limiter = new FanOutLimiter(options.fanOut);
  const overview = async (req: OverviewRequest): Promise<OverviewResult> => {
      const started = Date.now();
      const deadlineAt = started + options.deadlineMs;
      const exchange = req.exchange;
      const audit = (outcome: AuditOutcome, description: string) => auditOverview(options.env, req, exchange, { outcome, description });
      /** A failed request is in the audit log too, then answered with its OperationOutcome. */
      const refuse = async (err: HttpError): Promise<never> => {
        await audit('serious-failure', `refused (${err.status}): ${err.message}`);
        throw err;
      };

      let located: Awaited<ReturnType<NodeEnvironment['localise']>>;
      try {
        located = await withinDeadline(options.env.localise(req.tenant, req.bsn, exchange.code, req.trace), deadlineAt);
      } catch (err) {
        // No holder can be asked: an error, not an empty overview a clinician could read as "nothing known".
        return refuse(localisationFailure(err, options.deadlineMs));
      }
      const warnings: string[] = [];
      // A holder that registered only the Patient record has nothing of this exchange to give (an
      // organisation that knows him only from imaging, in an acute-care overview): not asked, and
      // so not reported as a source that failed.
      const relevant = located.filter((h) => h.categories.some((c) => c !== 'Patient'));
      const listed = await listedHolders(exchange, relevant, deadlineAt, warnings);
      if (listed.length === 0 && warnings.length === 0) warnings.push('the referral index knows no holder of data about this patient for this exchange');
      const holders = await mapBounded(listed, limiter.limits.holders, (h) => queryHolder(req, exchange, h, deadlineAt));
      const { bundle, stats } = mergeOverview({ bsn: req.bsn, holders, warnings, emergency: req.emergencyReason !== undefined });
      const answered = holders.filter((h) => h.status === 'ok').length;
      // The requester's own log names how many were asked; which ones is in the holders' logs.
      await audit(answered === holders.length ? 'success' : 'minor-failure', `${stats.items} items from ${answered}/${holders.length} holders`);
      return {
        bundle,
        // A holder that withheld everything on the patient's choice is not named to the requester.
        holders: holders.filter((h) => h.status !== 'withheld').map((h) => ({ ura: h.ura, name: h.name, status: h.status, elapsedMs: h.elapsedMs })),
      };
  };

  return {
    // The requester is the professional at her organisation: her share of the fan-out is bounded.
    overview: (req) => limiter.run(`${req.tenant.ura}/${req.user.deziNumber}`, () => overview(req)),
    async close() {
      for (const c of clients.values()) {
        await c.client.close();
        await c.tokens.close?.();
      }
    },
  };
}
