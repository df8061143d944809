import type { Counter } from 'prom-client';
import { type AuditInteraction, type AuditOutcome, buildAuditEvent, localPatientReference } from '../../audit/contract.ts';
import { formatTraceparent, type TraceContext } from '../../kit/trace.ts';
import type { NodeEnvironment, NodeTenant } from '../environment.ts';
import { type AccessLogger, logAccessOrDeny, logStoredWrite } from '../source/access-log.ts';

// Both sides of notified pull audit every step that touches a patient: the handover, the
// notification, each pull, and each status change. The BSN goes to the outbox only, sealed
// (NodeEnvironment.audit); the chained event names the patient by the EHR's own reference.

export interface WorkflowAuditInput {
  tenant: NodeTenant;
  user?: { deziNumber?: string; name?: string; roleCode?: string };
  clientId: string;
  otherPartyUra: string;
  exchange: string;
  dataCategories?: string[];
  interaction: AuditInteraction;
  query: string;
  side: 'requester' | 'holder';
  outcome: AuditOutcome;
  description?: string;
  patientRef?: string;
  bsn?: string;
  trace: TraceContext;
}

/** Where a step whose write is already stored raises a missing audit event (logStoredWrite). */
export interface StoredStepAlarm {
  log: AccessLogger;
  missing?: Counter;
}

/**
 * Audits one step. A read (a pull, a refusal) is denied when its event cannot be written; a step
 * whose write is already stored (a handover created, a status changed at the sender) passes
 * `stored`: the write stands and the missing event is an alarm.
 */
export async function auditWorkflow(env: NodeEnvironment, a: WorkflowAuditInput, stored?: StoredStepAlarm): Promise<void> {
  const event = buildAuditEvent({
    who: {
      professionalNumber: a.user?.deziNumber,
      professionalName: a.user?.name,
      roleCode: a.user?.roleCode,
      organizationUra: a.tenant.ura,
      clientId: a.clientId,
      otherPartyUra: a.otherPartyUra,
    },
    what: { exchange: a.exchange, dataCategories: a.dataCategories ?? [], interaction: a.interaction, query: a.query, side: a.side },
    patient: { localReference: localPatientReference(a.patientRef, 'workflow', a.trace.traceId) },
    why: { purposeOfUse: 'TREAT' },
    outcome: a.outcome,
    outcomeDescription: a.description,
    traceparent: formatTraceparent(a.trace),
  });
  const subject = a.bsn ? { bsn: a.bsn } : undefined;
  if (stored) await logStoredWrite(env, event, subject, stored.log, stored.missing);
  else await logAccessOrDeny(env, event, subject);
}
