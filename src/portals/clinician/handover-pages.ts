import type { Bundle, CareTeam, Composition, MedicationRequest, Resource } from '@medplum/fhirtypes';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { newTrace } from '../../kit/trace.ts';
import type { ClinicianServices, HandoverDesk } from '../../node/contract.ts';
import type { ClinicianIdentity } from '../ports.ts';
import { type SessionStore, Sessions } from '../sessions.ts';
import { type Html, html } from '../ui/html.ts';
import { formatDate, type Lang, languageOf, translator } from '../ui/i18n.ts';
import { banner, page } from '../ui/layout.ts';
import { csrfMatches, PageError, sendPage } from '../ui/web.ts';

// The receiving professional's screens in the clinician viewer (same login, same session):
// the handovers and prescriptions sent to her organisation, accept or reject, open what the
// workflow Task names (pulled from the sender at that moment, audited on both sides), complete,
// and for a pharmacist: dispense. Dutch only for now (the viewer's other pages are bilingual).
// The node's receiver does the work (node/contract.ts HandoverDesk), for her organisation only.

interface ViewerSession {
  identity?: ClinicianIdentity;
}

const STATUS_NL: Record<string, string> = {
  requested: 'Nieuw',
  accepted: 'Geaccepteerd',
  rejected: 'Geweigerd',
  'in-progress': 'In behandeling',
  completed: 'Afgerond',
  cancelled: 'Geannuleerd',
};

export interface HandoverPagesOptions {
  basePath: string;
  sessions: SessionStore;
  node: Pick<ClinicianServices, 'handovers' | 'exchangeName' | 'participantName'>;
  secureCookies?: boolean;
}

function display(r: Resource): string {
  const x = r as Resource & {
    code?: { text?: string; coding?: Array<{ display?: string }> };
    title?: string;
    name?: string | Array<{ text?: string }>;
    contained?: Resource[];
  };
  if (r.resourceType === 'Patient') return (x.name as Array<{ text?: string }>)?.[0]?.text ?? 'Patiënt';
  if (r.resourceType === 'CareTeam') return `${(r as CareTeam).name ?? 'Team'}: ${(r as CareTeam).participant?.map((p) => p.member?.display).join(', ') ?? ''}`;
  if (r.resourceType === 'Composition') return (r as Composition).title ?? 'Overdracht';
  const med = x.contained?.find((c) => c.resourceType === 'Medication') as { code?: { text?: string } } | undefined;
  if (med?.code?.text) {
    const cat = (r as MedicationRequest).category?.[0]?.coding?.[0]?.display;
    return `${med.code.text}${cat ? ` (${cat})` : ''}`;
  }
  return x.code?.text ?? x.code?.coding?.[0]?.display ?? r.resourceType;
}

const TYPE_NL: Record<string, string> = {
  Patient: 'Patiënt',
  Composition: 'Overdrachtsbericht',
  Condition: 'Probleem',
  AllergyIntolerance: 'Allergie',
  MedicationStatement: 'Medicatiegebruik',
  MedicationRequest: 'Voorschrift',
  Procedure: 'Verrichting / zorg',
  CareTeam: 'Ontvangend team',
  Observation: 'Meting',
};

export async function registerHandoverPages(app: FastifyInstance, o: HandoverPagesOptions): Promise<void> {
  const base = o.basePath.replace(/\/$/, '');
  const sessions = new Sessions<ViewerSession>(o.sessions, { cookieName: 'ldn_viewer', cookiePath: base || '/', secureCookies: o.secureCookies });

  async function who(request: FastifyRequest): Promise<{ desk: HandoverDesk; identity: ClinicianIdentity; csrf: string }> {
    const s = await sessions.load(request);
    const identity = s?.data.identity;
    if (!s || !identity) throw new PageError(401, 'common.notLoggedIn');
    const desk = o.node.handovers(identity);
    if (!desk) throw new PageError(403, 'common.csrf');
    return { desk, identity, csrf: (s.data as { csrf: string }).csrf };
  }

  const frame = (request: FastifyRequest, reply: FastifyReply, w: { identity: ClinicianIdentity; csrf: string }, title: string, main: Html) => {
    const lang: Lang = languageOf(request, reply, base || '/');
    return page({
      lang,
      portal: 'Zorgverlenersportaal',
      home: `${base}/`,
      title,
      assetBase: `${base}/assets`,
      path: request.url.split('?')[0],
      nav: [
        { href: `${base}/search`, label: translator(lang)('clin.searchTitle') },
        { href: `${base}/overdrachten`, label: translator(lang)('clin.handovers') },
      ],
      user: { name: [w.identity.name, w.identity.organizationName].filter(Boolean).join(', '), logoutAction: `${base}/logout`, csrf: w.csrf },
      main,
    });
  };
  const exchangeName = (code: string) => o.node.exchangeName(code);
  const senderName = async (ura: string) => (await o.node.participantName(ura)) ?? `URA ${ura}`;
  const form = (w: { csrf: string }, action: string, label: string, extra: Html | string = '', cls = '') =>
    html`<form method="post" action="${action}" class="inline">${extra}<input type="hidden" name="csrf" value="${w.csrf}"><button type="submit" class="${cls}">${label}</button></form>`;

  app.get(`${base}/overdrachten`, async (request, reply) => {
    const w = await who(request).catch(() => undefined);
    if (!w) return reply.redirect(`${base}/`);
    const list = await w.desk.list();
    const rows = await Promise.all(
      list.map(
        async (n) => html`<tr>
<td>${formatDate(n.receivedAt, 'nl', true)}</td><td>${await senderName(n.senderUra)}</td><td>${exchangeName(n.exchange)}</td>
<td>${n.description ?? ''}</td><td><span class="status status-${n.status}">${STATUS_NL[n.status] ?? n.status}</span></td>
<td><a href="${base}/overdrachten/${n.id}">Bekijken</a></td></tr>`,
      ),
    );
    const main = html`<h1>Overdrachten aan ${w.desk.organisation.name}</h1>
${list.length === 0 ? html`<p>Er zijn geen overdrachten.</p>` : html`<table class="data"><caption>Ontvangen meldingen (notified pull)</caption>
<thead><tr><th scope="col">Ontvangen</th><th scope="col">Van</th><th scope="col">Soort</th><th scope="col">Omschrijving</th><th scope="col">Status</th><th scope="col"><span class="visually-hidden">Actie</span></th></tr></thead>
<tbody>${rows}</tbody></table>`}`;
    return sendPage(reply, frame(request, reply, w, 'Overdrachten', main));
  });

  /** The workflow Task (read at the sender) with what she may do now. */
  async function taskPage(request: FastifyRequest, reply: FastifyReply, id: string, opened?: { bundle: Bundle; refused: string[] }, message?: Html) {
    const w = await who(request);
    const trace = request.trace ?? newTrace();
    const { notification, task } = await w.desk.readTask(id, trace);
    const action = (what: string) => `${base}/overdrachten/${id}/${what}`;
    const status = task.status ?? 'requested';
    const actions: Html[] = [];
    if (status === 'requested') {
      actions.push(form(w, action('status'), 'Accepteren', html`<input type="hidden" name="status" value="accepted">`));
      actions.push(
        form(w, action('status'), 'Weigeren', html`<input type="hidden" name="status" value="rejected"><label>Reden <input name="reason" required maxlength="500"></label>`, 'secondary'),
      );
    }
    if (status === 'accepted' || status === 'in-progress') {
      actions.push(form(w, action('open'), 'Overdracht openen'));
      if (notification.exchange === 'medicatieoverdracht') actions.push(form(w, action('dispense'), 'Verstrekken en afronden'));
      else actions.push(form(w, action('status'), 'Afronden', html`<input type="hidden" name="status" value="completed">`, 'secondary'));
    }
    const items = (opened?.bundle.entry ?? []).slice(1).map((e) => e.resource!).filter(Boolean);
    const composition = items.find((r): r is Composition => r.resourceType === 'Composition');
    const main = html`<h1>${exchangeName(notification.exchange)}: ${task.for?.display ?? 'patiënt'}</h1>
${message ?? ''}
<dl class="facts">
<dt>Van</dt><dd>${task.requester?.display ?? (await senderName(notification.senderUra))}</dd>
<dt>Omschrijving</dt><dd>${task.description ?? ''}</dd>
<dt>Status</dt><dd><span class="status status-${status}">${STATUS_NL[status] ?? status}</span>${task.statusReason?.text ? ` (${task.statusReason.text})` : ''}</dd>
<dt>Verstuurd</dt><dd>${formatDate(task.authoredOn, 'nl', true)}</dd>
</dl>
<div class="actions">${actions}</div>
${
  opened
    ? html`<section aria-labelledby="inhoud"><h2 id="inhoud">Inhoud van de overdracht</h2>
${composition ? html`<h3>${composition.title ?? ''}</h3>${(composition.section ?? []).map((s) => html`<h4>${s.title ?? ''}</h4><ul>${(s.entry ?? []).map((ref) => {
        const r = items.find((x) => `${x.resourceType}/${x.id}` === ref.reference);
        return html`<li>${r ? display(r) : ref.reference}</li>`;
      })}</ul>`)}` : ''}
<table class="data"><caption>Opgehaalde gegevens, met bron</caption><thead><tr><th scope="col">Soort</th><th scope="col">Gegeven</th><th scope="col">Bron</th></tr></thead>
<tbody>${items.map((r) => html`<tr><td>${TYPE_NL[r.resourceType] ?? r.resourceType}</td><td>${display(r)}</td><td>${task.requester?.display ?? notification.senderUra}</td></tr>`)}</tbody></table>
${opened.refused.length ? banner('warn', `Niet opgehaald: ${opened.refused.join('; ')}`) : ''}</section>`
    : ''
}
<p><a href="${base}/overdrachten">Terug naar de overdrachten</a></p>`;
    return sendPage(reply, frame(request, reply, w, exchangeName(notification.exchange), main));
  }

  const checkCsrf = async (request: FastifyRequest) => {
    const w = await who(request);
    const body = (request.body ?? {}) as Record<string, unknown>;
    if (!csrfMatches(w.csrf, body.csrf)) throw new PageError(403, 'common.csrf');
    return { w, body };
  };

  app.get<{ Params: { id: string } }>(`${base}/overdrachten/:id`, async (request, reply) => taskPage(request, reply, request.params.id));

  app.post<{ Params: { id: string } }>(`${base}/overdrachten/:id/status`, async (request, reply) => {
    const { w, body } = await checkCsrf(request);
    const status = String(body.status ?? '');
    if (!['accepted', 'rejected', 'completed'].includes(status)) throw new PageError(400, 'common.csrf');
    const reason = typeof body.reason === 'string' ? body.reason.trim().slice(0, 500) : undefined;
    await w.desk.setStatus(request.params.id, { status: status as 'accepted', reason, outputs: [] }, request.trace ?? newTrace());
    return reply.redirect(`${base}/overdrachten/${request.params.id}`);
  });

  // Opening pulls from the sender: a POST, so that a reload or a prefetch does not pull again.
  app.post<{ Params: { id: string } }>(`${base}/overdrachten/:id/open`, async (request, reply) => {
    const { w } = await checkCsrf(request);
    const handover = await w.desk.open(request.params.id, request.trace ?? newTrace());
    return taskPage(request, reply, request.params.id, handover);
  });

  app.post<{ Params: { id: string } }>(`${base}/overdrachten/:id/dispense`, async (request, reply) => {
    const { w } = await checkCsrf(request);
    const { dispense } = await w.desk.dispense(request.params.id, request.trace ?? newTrace());
    return taskPage(request, reply, request.params.id, undefined, banner('ok', `Verstrekt: ${display(dispense)}. De voorschrijver ziet de verstrekking bij de opdracht.`));
  });
}

