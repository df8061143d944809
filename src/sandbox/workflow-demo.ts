import type { Bundle, Resource } from '@medplum/fhirtypes';
import { PartClient } from '../kit/http/client.ts';
import { deGrootDischarge, deGrootPrescription, GP, PHARMACY, THUISZORG, VELUWE } from '../node/ehr-sim/workflow-stories.ts';
import { TrustTokenProvider } from '../trust/auth/token-provider.ts';
import { DE_GROOT } from './cast.ts';
import { clinicianVerklaring } from './clinician-login.ts';
import type { Sandbox } from './sandbox.ts';

// The starting state of the two notified-pull stories for people playing them by hand (`npm start`):
// Ziekenhuis Veluwe's record of De Groot's admission and the GP's new prescription are written into
// their EHRs (the simulator's FHIR API, stable ids), and the hospital's nurse and the GP hand them
// over through their own nodes' workflow interface, as their EHRs would (their certificate, a
// token, their verklaring). Thuiszorg Limburg's nurse and Apotheek Kerkrade's pharmacist then find
// them in their viewer under Overdrachten. Nothing is sent twice: a receiver whose list already
// holds the exchange (a kept --data-dir) is left as it is.

const VISSER = '900001013'; // nurse, Ziekenhuis Veluwe
const HENDRIKS = '900001031'; // GP, Huisartsenpraktijk Kerkrade
const JANSSEN = '900001051'; // nurse, Thuiszorg Limburg
const PETERS = '900001041'; // pharmacist, Apotheek Kerkrade

interface Step {
  exchange: string;
  sender: { ura: string; deziNumber: string };
  receiver: { ura: string; deziNumber: string };
  resources: Resource[];
  inputs: string[];
}

async function recordInEhr(sandbox: Sandbox, ura: string, resources: Resource[]): Promise<void> {
  for (const r of resources) {
    const res = await fetch(`${sandbox.ehr.url}/${ura}/fhir/${r.resourceType}/${r.id}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/fhir+json' },
      body: JSON.stringify(r),
    });
    if (res.status !== 200 && res.status !== 201) throw new Error(`the EHR of ${ura} refused ${r.resourceType}/${r.id}: ${res.status}`);
  }
}

/** One call at an organisation's node, for one of its professionals, as its EHR makes it. */
async function asProfessional<T>(sandbox: Sandbox, who: { ura: string; deziNumber: string }, exchange: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
  const participant = sandbox.manifest.participants.find((p) => p.ura === who.ura);
  const identity = sandbox.identities.participants.get(who.ura);
  if (!participant?.nodeUrl || !identity) throw new Error(`the sandbox has no organisation ${who.ura}`);
  const verklaring = await clinicianVerklaring(sandbox, who.deziNumber);
  const tokens = new TrustTokenProvider({ tls: identity, ura: who.ura, tokenEndpoint: `${new URL(participant.nodeUrl).origin}/oauth/token` });
  const client = new PartClient({ tls: identity, tokens, maxRetries: 0, defaultDeadlineMs: 60_000 });
  try {
    const r = await client.call<T>(`${participant.nodeUrl}${path}`, {
      method,
      body,
      scope: exchange,
      resource: participant.nodeUrl,
      userAssertion: verklaring,
      headers: { 'dezi-verklaring': verklaring },
    });
    return { status: r.status, body: r.body };
  } finally {
    await client.close();
    await tokens.close?.();
  }
}

/** Sends both stories' handovers unless their receivers already hold one; returns what it did, per story. */
export async function preloadWorkflowStories(sandbox: Sandbox): Promise<string[]> {
  const discharge = deGrootDischarge();
  const prescription = deGrootPrescription();
  const steps: Step[] = [
    { exchange: 'eoverdracht', sender: { ura: VELUWE, deziNumber: VISSER }, receiver: { ura: THUISZORG, deziNumber: JANSSEN }, ...discharge },
    { exchange: 'medicatieoverdracht', sender: { ura: GP, deziNumber: HENDRIKS }, receiver: { ura: PHARMACY, deziNumber: PETERS }, ...prescription },
  ];
  const done: string[] = [];
  for (const s of steps) {
    const name = (ura: string) => sandbox.manifest.participants.find((p) => p.ura === ura)?.name ?? ura;
    const inbox = await asProfessional<Bundle>(sandbox, s.receiver, s.exchange, 'GET', '/workflow/inbox');
    if (inbox.status !== 200) throw new Error(`${name(s.receiver.ura)}'s list could not be read: ${inbox.status} ${JSON.stringify(inbox.body).slice(0, 200)}`);
    if ((inbox.body.entry ?? []).length > 0) {
      done.push(`${s.exchange}: ${name(s.receiver.ura)} already holds a handover (kept data); nothing sent`);
      continue;
    }
    await recordInEhr(sandbox, s.sender.ura, s.resources);
    const sent = await asProfessional<{ id?: string }>(sandbox, s.sender, s.exchange, 'POST', '/workflow/handovers', {
      exchange: s.exchange,
      receiver: s.receiver.ura,
      patient: DE_GROOT.bsn,
      inputs: s.inputs,
    });
    if (sent.status !== 201) throw new Error(`${name(s.sender.ura)} could not hand over: ${sent.status} ${JSON.stringify(sent.body).slice(0, 300)}`);
    done.push(`${s.exchange}: ${name(s.sender.ura)} → ${name(s.receiver.ura)} (Task ${sent.body.id})`);
  }
  return done;
}
