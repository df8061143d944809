import type { Parameters, Reference, Task } from '@medplum/fhirtypes';
import { badRequest } from '../../kit/fhir/outcome.ts';
import { CODE_SYSTEM, SYSTEM } from '../../kit/identifiers/systems.ts';
import type { NotifiedPullDefinition } from '../../trust/contract.ts';

// The two Tasks of notified pull (Twiin TA Notified Pull, in FHIR R4): the *workflow* Task the
// sender keeps (owner = receiver, `for` = patient, `input` = what may be fetched) and the
// *notification* Task it posts to the receiver (code pull-notification, basedOn = the workflow
// Task). Building and strict parsing live here, once for every notified-pull exchange.

export const TASK_CODE_SYSTEM = 'http://fhir.nl/fhir/NamingSystem/TaskCode';
export const TASK_INPUT_SYSTEM = 'https://ldn.example.nl/fhir/CodeSystem/task-input';
export const NOTIFICATION_ID_SYSTEM = 'https://ldn.example.nl/fhir/NamingSystem/pull-notification';
export const WORKFLOW_TASK_ID_SYSTEM = 'https://ldn.example.nl/fhir/NamingSystem/workflow-task';

export type WorkflowStatus = 'requested' | 'accepted' | 'rejected' | 'in-progress' | 'completed' | 'cancelled';
export const WORKFLOW_STATUSES: readonly WorkflowStatus[] = ['requested', 'accepted', 'rejected', 'in-progress', 'completed', 'cancelled'];
/** While the workflow Task is in one of these, the receiver may pull what it names. */
export const ACTIVE_STATUSES: readonly WorkflowStatus[] = ['accepted', 'in-progress'];

/** Who may move a workflow Task from which status to which. */
const TRANSITIONS: Record<'owner' | 'sender', Partial<Record<WorkflowStatus, WorkflowStatus[]>>> = {
  owner: {
    requested: ['accepted', 'rejected'],
    accepted: ['in-progress', 'completed', 'cancelled'],
    'in-progress': ['completed', 'cancelled'],
  },
  sender: { requested: ['cancelled'], accepted: ['cancelled'], 'in-progress': ['cancelled'] },
};

export function mayTransition(by: 'owner' | 'sender', from: WorkflowStatus, to: WorkflowStatus): boolean {
  return TRANSITIONS[by][from]?.includes(to) ?? false;
}

export interface WorkflowTaskRecord {
  id: string;
  tenantUra: string;
  tenantName: string;
  exchange: string;
  ownerUra: string;
  ownerName?: string;
  /** The sender EHR's local patient id. */
  patientId: string;
  status: WorkflowStatus;
  statusReason?: string;
  /** Relative references (Type/id) into the sender's EHR that the receiver may pull. */
  inputs: string[];
  /** Absolute references the receiver reported back (e.g. the pharmacy's dispense). */
  outputs: string[];
  requester: { deziNumber?: string; name?: string; roleCode?: string };
  note?: string;
  createdAt: string;
  updatedAt: string;
}

/** The workflow Task as the sender serves it; the patient's BSN is read from the EHR when served. */
export function workflowTask(r: WorkflowTaskRecord, def: NotifiedPullDefinition, patient: { bsn: string; display?: string }, fhirBase: string): Task {
  return {
    resourceType: 'Task',
    id: r.id,
    meta: { lastUpdated: r.updatedAt },
    identifier: [{ system: WORKFLOW_TASK_ID_SYSTEM, value: `${r.tenantUra}/${r.id}` }],
    status: r.status,
    ...(r.statusReason ? { statusReason: { text: r.statusReason } } : {}),
    intent: 'order',
    code: { coding: [def.taskCode, { system: CODE_SYSTEM.exchange, code: r.exchange }] },
    for: { reference: `${fhirBase}/Patient/${r.patientId}`, identifier: { system: SYSTEM.bsn, value: patient.bsn }, display: patient.display },
    authoredOn: r.createdAt,
    lastModified: r.updatedAt,
    requester: {
      identifier: { system: SYSTEM.ura, value: r.tenantUra },
      display: [r.requester.name, r.tenantName].filter(Boolean).join(', '),
    },
    owner: { identifier: { system: SYSTEM.ura, value: r.ownerUra }, ...(r.ownerName ? { display: r.ownerName } : {}) },
    ...(r.note ? { description: r.note } : {}),
    input: r.inputs.map((ref) => ({
      type: { coding: [{ system: TASK_INPUT_SYSTEM, code: 'pull', display: 'Op te halen gegevens' }] },
      valueReference: { reference: `${fhirBase}/${ref}` },
    })),
    ...(r.outputs.length
      ? { output: r.outputs.map((ref) => ({ type: { coding: [{ system: TASK_INPUT_SYSTEM, code: 'result' }] }, valueReference: { reference: ref } })) }
      : {}),
  };
}

export interface Notification {
  senderUra: string;
  receiverUra: string;
  exchange: string;
  /** Absolute URL of the workflow Task at the sender's node. */
  taskUrl: string;
  description?: string;
}

export function notificationTask(n: Notification): Task {
  return {
    resourceType: 'Task',
    identifier: [{ system: NOTIFICATION_ID_SYSTEM, value: n.taskUrl }],
    status: 'requested',
    intent: 'proposal',
    code: { coding: [{ system: TASK_CODE_SYSTEM, code: 'pull-notification' }, { system: CODE_SYSTEM.exchange, code: n.exchange }] },
    basedOn: [{ reference: n.taskUrl }],
    requester: { identifier: { system: SYSTEM.ura, value: n.senderUra } },
    owner: { identifier: { system: SYSTEM.ura, value: n.receiverUra } },
    ...(n.description ? { description: n.description } : {}),
    input: [{ type: { coding: [{ system: TASK_INPUT_SYSTEM, code: 'get-workflow-task' }] }, valueBoolean: true }],
  };
}

const URA = /^\d{8}$/;
const EXCHANGE = /^[a-z][a-z0-9-]{0,40}$/;

function uraOf(ref: Reference | undefined, what: string): string {
  const id = ref?.identifier;
  if (id?.system !== SYSTEM.ura || typeof id.value !== 'string' || !URA.test(id.value)) throw badRequest(`${what} must name an organisation by URA`, [what]);
  return id.value;
}

/** A notification Task as received; anything else is a 400 naming what is wrong. */
export function parseNotification(body: unknown): Notification {
  const t = body as Task | undefined;
  if (!t || typeof t !== 'object' || t.resourceType !== 'Task') throw badRequest('expected a notification Task');
  const codings = Array.isArray(t.code?.coding) ? t.code.coding : [];
  if (!codings.some((c) => c?.system === TASK_CODE_SYSTEM && c.code === 'pull-notification')) throw badRequest('Task.code must be pull-notification', ['Task.code']);
  const exchange = codings.find((c) => c?.system === CODE_SYSTEM.exchange)?.code;
  if (typeof exchange !== 'string' || !EXCHANGE.test(exchange)) throw badRequest('Task.code must name the exchange', ['Task.code']);
  const based = Array.isArray(t.basedOn) ? t.basedOn : [];
  if (based.length !== 1 || typeof based[0]?.reference !== 'string') throw badRequest('Task.basedOn must reference the one workflow Task', ['Task.basedOn']);
  const taskUrl = based[0].reference;
  let url: URL;
  try {
    url = new URL(taskUrl);
  } catch {
    throw badRequest('Task.basedOn must be the absolute URL of the workflow Task', ['Task.basedOn']);
  }
  // Compared as written: a URL the parser would normalise (dot segments, case) is not accepted.
  if (url.protocol !== 'https:' || url.href !== taskUrl || !/\/Task\/[A-Za-z0-9\-.]{1,64}$/.test(url.pathname) || url.search || url.hash) {
    throw badRequest('Task.basedOn must be an https URL ending in Task/<id>', ['Task.basedOn']);
  }
  const description = typeof t.description === 'string' ? t.description.slice(0, 500) : undefined;
  return { senderUra: uraOf(t.requester, 'Task.requester'), receiverUra: uraOf(t.owner, 'Task.owner'), exchange, taskUrl, description };
}

export interface StatusUpdate {
  status: WorkflowStatus;
  reason?: string;
  /** Absolute references the receiver hands back (e.g. its dispense). */
  outputs: string[];
}

/** The Parameters of $status: a status, an optional reason and outputs. */
export function parseStatusUpdate(body: unknown): StatusUpdate {
  const p = body as Parameters | undefined;
  if (!p || typeof p !== 'object' || p.resourceType !== 'Parameters' || !Array.isArray(p.parameter)) throw badRequest('expected Parameters');
  const status = p.parameter.find((x) => x?.name === 'status')?.valueCode;
  if (typeof status !== 'string' || !(WORKFLOW_STATUSES as readonly string[]).includes(status)) {
    throw badRequest(`status must be one of ${WORKFLOW_STATUSES.join(', ')}`, ['Parameters.parameter.status']);
  }
  const reason = p.parameter.find((x) => x?.name === 'reason')?.valueString;
  if (reason !== undefined && (typeof reason !== 'string' || reason.length > 500)) throw badRequest('reason must be text of at most 500 characters');
  if ((status === 'rejected' || status === 'cancelled') && !reason?.trim()) throw badRequest(`a ${status} Task needs a reason`);
  const outputs = p.parameter.filter((x) => x?.name === 'output').map((x) => x.valueReference?.reference);
  for (const o of outputs) {
    if (typeof o !== 'string' || !/^https:\/\/\S{1,500}$/.test(o)) throw badRequest('output must be an absolute https reference');
  }
  if (outputs.length > 20) throw badRequest('at most 20 outputs');
  return { status: status as WorkflowStatus, reason: reason?.trim() || undefined, outputs: outputs as string[] };
}

export function statusParameters(u: StatusUpdate): Parameters {
  return {
    resourceType: 'Parameters',
    parameter: [
      { name: 'status', valueCode: u.status },
      ...(u.reason ? [{ name: 'reason', valueString: u.reason }] : []),
      ...u.outputs.map((reference) => ({ name: 'output', valueReference: { reference } })),
    ],
  };
}
