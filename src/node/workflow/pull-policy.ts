import type { PdpDecision, PdpReason, Qualification } from '../../consent/contract.ts';
import { qualifiedAt } from '../../kit/rules/qualification.ts';
import type { ExchangeDefinition } from '../../trust/contract.ts';
import { ACTIVE_STATUSES, type WorkflowTaskRecord } from './task-resources.ts';

// The sender's policy for a pull under a workflow Task: the treatment relationship the Task
// itself establishes is the legal basis, so the Task decides exactly what may be read, by whom
// and while when, and only for a token granted for that Task (token-basis.ts). Deny unless every condition holds; every reason is returned for the audit.

export interface PullInput {
  /** The workflow Task the request names (null: no such Task at this holder). */
  task: WorkflowTaskRecord | null;
  /** The workflow Task id the access token was granted for (its authorization_details), if any. */
  basis: string | undefined;
  exchange: ExchangeDefinition | undefined;
  holderUra: string;
  requester: {
    ura: string;
    type: string;
    status: string;
    qualifications: Array<string | Qualification>;
    scope: string;
    roleCode?: string;
    deziNumber?: string;
  };
  /** What is read: `Task/<id>` (the workflow Task itself) or `<Type>/<id>` in the sender's EHR. */
  reference: string;
  now: Date;
}

const notAllowed = (description: string): PdpReason => ({ code: 'not_allowed', description });

export function decidePull(i: PullInput): PdpDecision {
  const { task, exchange, requester } = i;
  if (!i.basis) return { allow: false, reasons: [notAllowed('the access token names no workflow Task as its authorisation basis (authorization_details)')] };
  if (!task || task.tenantUra !== i.holderUra) return { allow: false, reasons: [notAllowed('no such workflow Task at this organisation')] };
  if (!exchange || exchange.code !== task.exchange || !exchange.notifiedPull) {
    return { allow: false, reasons: [notAllowed(`the agreements offer no notified pull for ${task.exchange}`)] };
  }
  const reasons: PdpReason[] = [];
  if (i.basis !== task.id) reasons.push(notAllowed(`the access token was granted for workflow Task ${i.basis}, not for ${task.id}`));
  if (!exchange.legalBasis.includes('treatment-relationship')) reasons.push(notAllowed(`${exchange.code} has no treatment-relationship basis`));
  if (requester.ura !== task.ownerUra) reasons.push(notAllowed(`the workflow Task is addressed to ${task.ownerUra}, not to ${requester.ura}`));
  if (requester.status !== 'admitted') reasons.push(notAllowed(`requester ${requester.ura} is not an admitted participant`));
  if (!qualifiedAt(requester.qualifications, exchange.code, i.now)) reasons.push(notAllowed(`requester ${requester.ura} holds no valid qualification for ${exchange.code}`));
  if (!exchange.requesterOrganizationTypes.includes(requester.type)) reasons.push(notAllowed(`organisation type ${requester.type} may not request ${exchange.code}`));
  const scopes = requester.scope.split(/\s+/);
  if (!exchange.scopes.some((s) => scopes.includes(s))) reasons.push(notAllowed(`token scope lacks ${exchange.scopes.join(' or ')}`));
  if (!requester.roleCode || !exchange.requesterRoles.includes(requester.roleCode)) reasons.push(notAllowed(`role ${requester.roleCode ?? '(none)'} may not request ${exchange.code}`));
  if (!requester.deziNumber) reasons.push(notAllowed('no professional named in the access token'));
  const readsTask = i.reference === `Task/${task.id}`;
  // The workflow Task itself may be read in any status (the receiver must see it to accept);
  // the data it names only while it is active.
  if (!readsTask) {
    if (!(ACTIVE_STATUSES as readonly string[]).includes(task.status)) reasons.push(notAllowed(`the workflow Task is ${task.status}, not active`));
    const type = i.reference.split('/')[0];
    const named = i.reference === `Patient/${task.patientId}` || task.inputs.includes(i.reference);
    if (!named) reasons.push(notAllowed(`${i.reference} is not named by the workflow Task`));
    else if (!exchange.notifiedPull.resourceTypes.includes(type)) reasons.push(notAllowed(`${type} is not pulled in ${exchange.code}`));
  }
  if (reasons.length) return { allow: false, reasons };
  return {
    allow: true,
    basis: 'treatment-relationship',
    reasons: [{ code: 'info', description: `workflow Task ${task.id} (${task.status}) names ${i.reference} for ${task.ownerUra}` }],
    dataCategories: [],
  };
}
