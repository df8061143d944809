import { badRequest, forbidden, type HttpError } from '../../kit/fhir/outcome.ts';
import { isValidBsn } from '../../kit/identifiers/bsn.ts';
import { acceptedEmergencyReason, EMERGENCY_REASON_RULE } from '../../kit/rules/emergency-reason.ts';
import type { TraceContext } from '../../kit/trace.ts';
import { exchangeByCode, type ExchangeDefinition, type UserContext } from '../../trust/contract.ts';
import { EMERGENCY_HEADER } from '../contract.ts';
import type { NodeEnvironment, NodeTenant } from '../environment.ts';
import { auditOverview, type OverviewResult, type OverviewService } from './overview.ts';

// The overview as one operation, whoever asks: the organisation's own systems through
// Patient/$overview and $summary (overview-route.ts, summary/operation.ts, which first establish
// the caller from her token and verklaring), and the node's clinician viewer (clinician-services.ts,
// which establishes her from her login). Both hand the same raw ask here: it is parsed once,
// authorised once against the agreements, and only then does the fan-out (overview.ts) run.
// The OperationDefinition is overview-definition.ts.

/** The professional asking, at the organisation the node serves her for, already established by the caller. */
export interface OverviewCaller {
  tenant: NodeTenant;
  user: UserContext;
  /** Her Dezi verklaring, presented to each holder's authorisation server. */
  verklaring: string;
}

/** What she asked, as received (a form field, a query parameter, a header). */
export interface OverviewAsk {
  bsn: string;
  exchange: string;
  /** Only when she breaks the glass; absent otherwise. */
  emergencyReason?: string;
  trace: TraceContext;
}

export interface OverviewOperation {
  run(caller: OverviewCaller, ask: OverviewAsk): Promise<OverviewResult>;
}

/** The ask with its values checked; a 400 here names no patient, so nothing is audited. */
function parse(ask: OverviewAsk): { bsn: string; emergencyReason?: string } {
  const bsn = ask.bsn.trim();
  if (!isValidBsn(bsn)) throw badRequest('not a valid BSN (11-test)');
  if (ask.emergencyReason === undefined) return { bsn };
  // A break-the-glass reason the holders would refuse is refused here, before any holder is asked.
  const emergencyReason = acceptedEmergencyReason(ask.emergencyReason);
  if (emergencyReason === undefined) throw badRequest(`${EMERGENCY_HEADER} must give ${EMERGENCY_REASON_RULE}`);
  return { bsn, emergencyReason };
}

/**
 * Why the agreements do not let a professional in this role, at an organisation of this type, ask
 * this exchange (or break the glass for it); undefined when they do. The viewer lists exchanges by it too.
 */
export function overviewRefusal(exchange: ExchangeDefinition, roleCode: string, organisationType: string, emergency: boolean): HttpError | undefined {
  if (!exchange.requesterRoles.includes(roleCode)) return forbidden(`role ${roleCode} may not request ${exchange.code}`);
  if (!exchange.requesterOrganizationTypes.includes(organisationType)) return forbidden(`an organisation of type ${organisationType} may not request ${exchange.code}`);
  if (emergency && !exchange.emergencyAccess) return forbidden(`the ${exchange.code} exchange allows no emergency access`);
  return undefined;
}

export function createOverviewOperation(o: { env: NodeEnvironment; overview: OverviewService }): OverviewOperation {
  return {
    async run(caller, ask) {
      const { bsn, emergencyReason } = parse(ask);
      const request = { ...caller, bsn, emergencyReason, trace: ask.trace };
      // The ask names a patient (its BSN parsed), so a refusal is in the requester's audit log too.
      const refuse = async (exchange: { code: string; dataCategories: string[] }, err: HttpError): Promise<never> => {
        await auditOverview(o.env, request, exchange, { outcome: 'serious-failure', description: `refused (${err.status}): ${err.message}` });
        throw err;
      };
      const exchange = exchangeByCode(o.env.agreements(), ask.exchange);
      if (!exchange) return refuse({ code: ask.exchange, dataCategories: [] }, badRequest(`unknown exchange "${ask.exchange}"`));
      const refused = overviewRefusal(exchange, caller.user.roleCode, caller.tenant.type, emergencyReason !== undefined);
      if (refused) return refuse(exchange, refused);
      return o.overview.overview({ ...request, exchange });
    },
  };
}
