import type { Queryable } from '../../kit/store/store.ts';
import { type AuthorizationDetail, invalidAuthorizationDetails, WORKFLOW_TASK_DETAIL } from '../../trust/contract.ts';
import type { NodeEnvironment } from '../environment.ts';
import { getTask } from './store.ts';

// The authorisation basis of a pull, as the receiver names it in its token request (RFC 9396
// authorization_details, one entry of type WORKFLOW_TASK_DETAIL naming `Task/<id>`). The node's
// token endpoint grants it only to the Task's owner, for the Task's own organisation and with a
// scope of the Task's exchange; the token carries it, and the sender's pull policy allows only
// what that Task names. What the Task allows (status, named data) is decided per request.

const TASK_REF = /^Task\/([A-Za-z0-9\-.]{1,64})$/;

/** The authorization_details entry a receiver sends to pull under one workflow Task. */
export function workflowTaskDetail(taskId: string, organisationBase: string): AuthorizationDetail {
  return { type: WORKFLOW_TASK_DETAIL, identifier: `Task/${taskId}`, locations: [organisationBase] };
}

export async function grantWorkflowTask(
  d: { store: Queryable; env: NodeEnvironment },
  clientUra: string,
  details: AuthorizationDetail[],
  grant: { resource: string; scopes: string[] },
): Promise<AuthorizationDetail[]> {
  if (details.length !== 1 || details[0].type !== WORKFLOW_TASK_DETAIL) {
    throw invalidAuthorizationDetails(`this server grants one authorization_details entry of type ${WORKFLOW_TASK_DETAIL}`);
  }
  const [detail] = details;
  const id = TASK_REF.exec(detail.identifier ?? '')?.[1];
  if (!id) throw invalidAuthorizationDetails('the workflow Task must be named as identifier "Task/<id>"');
  if (detail.locations && (detail.locations.length !== 1 || detail.locations[0].replace(/\/$/, '') !== grant.resource)) {
    throw invalidAuthorizationDetails('authorization_details locations must be the token resource');
  }
  const tenantUra = /\/org\/(\d{8})$/.exec(grant.resource)?.[1];
  const task = await getTask(d.store, id, (r) => ({ tenantName: r.tenantUra }));
  // One refusal for "no such Task" and "not yours": a token request does not reveal other handovers.
  if (!task || task.tenantUra !== tenantUra || task.ownerUra !== clientUra) {
    throw invalidAuthorizationDetails(`no workflow Task ${id} of this organisation is addressed to ${clientUra}`);
  }
  const exchange = d.env.agreements().exchanges.find((e) => e.code === task.exchange);
  if (!exchange?.scopes.some((s) => grant.scopes.includes(s))) {
    throw invalidAuthorizationDetails(`a token under workflow Task ${id} needs a scope of ${task.exchange}`);
  }
  return [workflowTaskDetail(id, grant.resource)];
}
