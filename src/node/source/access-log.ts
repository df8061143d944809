import { randomUUID } from 'node:crypto';
import type { AuditEvent } from '@medplum/fhirtypes';
import type { Counter } from 'prom-client';
import type { AuditEventInput } from '../../audit/contract.ts';
import type { AccessTokenClaims } from '../../trust/contract.ts';
import type { NodeEnvironment, NodeTenant } from '../environment.ts';
import { NodeError } from '../errors.ts';

// The one way the node writes an access to its audit log (issue #16: every access path audits the
// same way). Two cases, and only two:
// - logAccessOrDeny: before data is released. An access whose event cannot be written releases
//   nothing: the caller gets ERR_NODE_AUDIT_UNAVAILABLE (503) instead of the data.
// - logStoredWrite: after a write the organisation's EHR has already stored. The write is not
//   undone; the missing event is raised as an alarm (log line and metric) for the operator.
// A test (access-log.test.ts) refuses any other `.audit(` call in src/node, so a new path cannot
// bypass these. The BSN goes to the audit outbox only (sealed there): it is never logged here.

/** Whom the access is about: one patient, several (one event in each one's log), or none named. */
export type AccessSubject = { bsn: string } | ReadonlyArray<{ bsn: string }> | undefined;

/** What the wrappers log with: a pino or Fastify logger. */
export interface AccessLogger {
  error(obj: object, msg: string): void;
}

export const AUDIT_UNAVAILABLE_MESSAGE = 'the access could not be audited; nothing was released';

/**
 * Writes the access's event (one per named patient, each with its own id) before anything is
 * released; throws ERR_NODE_AUDIT_UNAVAILABLE when the log does not take it.
 */
export async function logAccessOrDeny(env: NodeEnvironment, event: AuditEvent, subject?: AccessSubject, log?: AccessLogger): Promise<void> {
  try {
    await writePerPatient(env, event, subject);
  } catch (err) {
    log?.error({ event: 'audit-unavailable', auditEvent: event.id, error: messageOf(err) }, 'access denied: its audit event could not be written');
    throw new NodeError('ERR_NODE_AUDIT_UNAVAILABLE', AUDIT_UNAVAILABLE_MESSAGE, { cause: err, headers: { 'retry-after': '5' } });
  }
}

/**
 * Writes the event of a write already stored; never throws (the write stands). A failure is an
 * `audit-missing` alarm: an error line naming the event id, and `missing` counted when given.
 */
export async function logStoredWrite(env: NodeEnvironment, event: AuditEvent, subject: AccessSubject, log: AccessLogger, missing?: Counter): Promise<void> {
  try {
    await writePerPatient(env, event, subject);
  } catch (err) {
    missing?.inc();
    log.error({ alarm: 'audit-missing', auditEvent: event.id, error: messageOf(err) }, 'a stored write has no audit event');
  }
}

async function writePerPatient(env: NodeEnvironment, event: AuditEvent, subject: AccessSubject): Promise<void> {
  const patients = subject === undefined ? [] : Array.isArray(subject) ? (subject as ReadonlyArray<{ bsn: string }>) : [subject as { bsn: string }];
  // An access that names nobody is logged locally only.
  if (patients.length === 0) return env.audit(event, undefined);
  // Every patient gets the event in her own access log, each a distinct event.
  for (const [i, patient] of patients.entries()) await env.audit(i === 0 ? event : { ...structuredClone(event), id: randomUUID() }, { bsn: patient.bsn });
}

// Only the message: an error's other fields (a driver's detail) might quote what was written.
function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Who asked, as the holder's event names it: the professional from the token, the tenant, the requesting organisation as the other party. */
export function requesterSeenByHolder(claims: AccessTokenClaims, tenant: Pick<NodeTenant, 'ura'>): AuditEventInput['who'] {
  return {
    professionalNumber: claims.dezi_number,
    professionalName: claims.name,
    roleCode: claims.role_code,
    organizationUra: tenant.ura,
    clientId: claims.client_id ?? claims.sub,
    otherPartyUra: claims.sub,
  };
}
