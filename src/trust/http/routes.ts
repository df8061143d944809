import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { badRequest, forbidden } from '../../kit/fhir/outcome.ts';
import { AGREEMENTS_MEDIA_TYPE } from '../agreements/jws.ts';
import { changeNetworkSettings, publishAgreements } from '../agreements/store.ts';
import type { AgreementsDocument } from '../agreements/types.ts';
import { getCertificate, issueFromCsr, revokeCertificate } from '../certificates/lifecycle.ts';
import {
  getParticipant,
  getVendor,
  listParticipants,
  type ParticipantInput,
  type ParticipantStatus,
  qualify,
  registerParticipant,
  registerVendor,
  setParticipantStatus,
  setVendorStatus,
  statusHistory,
  withdrawQualification,
} from '../register/participants.ts';
import type { TrustRuntime } from '../runtime.ts';

// The trust part's own API. Public: the signed agreements and status list. Every participant:
// reading the register (plain JSON: this is an administrative register; the directory part
// publishes organisations as FHIR) and renewing its own certificate. The operator (configured
// URA, optionally system number): admitting, suspending, revoking, qualifying, publishing.

type Body = Record<string, unknown>;
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

export function registerTrustRoutes(app: FastifyInstance, rt: TrustRuntime): void {
  const operator = (request: FastifyRequest): string => {
    if (!rt.isOperator(request.peer)) throw forbidden('this operation needs the network operator certificate');
    return `operator:${request.peer!.ura}/${request.peer!.systemNumber}`;
  };
  const done = <T>(value: T): T => {
    rt.changed();
    return value;
  };

  app.get('/agreements', async (_req, reply: FastifyReply) =>
    reply.type(AGREEMENTS_MEDIA_TYPE).header('cache-control', 'public, max-age=60').send(await rt.signedAgreements()),
  );
  app.get('/status-list', async (_req, reply: FastifyReply) => reply.type(AGREEMENTS_MEDIA_TYPE).header('cache-control', 'no-cache').send(await rt.signedStatusList()));

  app.get('/participants', async () => ({ participants: await listParticipants(rt.store) }));
  app.get<{ Params: { ura: string } }>('/participants/:ura', async (req) => getParticipant(rt.store, req.params.ura));
  app.get<{ Params: { ura: string } }>('/participants/:ura/history', async (req) => ({ history: await statusHistory(rt.store, 'participant', req.params.ura) }));
  app.get<{ Params: { kvk: string } }>('/vendors/:kvk', async (req) => getVendor(rt.store, req.params.kvk));
  app.get<{ Params: { serial: string } }>('/certificates/:serial', async (req) => getCertificate(rt.store, req.params.serial));

  app.post('/participants', async (req, reply) => {
    const actor = operator(req);
    const p = await registerParticipant(rt.store, req.body as ParticipantInput, actor);
    return reply.code(201).send(done(p));
  });
  app.post<{ Params: { ura: string } }>('/participants/:ura/status', async (req) => {
    const actor = operator(req);
    const b = (req.body ?? {}) as Body;
    return done(await setParticipantStatus(rt.store, req.params.ura, str(b.status) as ParticipantStatus, str(b.reason) ?? '', actor));
  });
  app.post<{ Params: { ura: string } }>('/participants/:ura/qualifications', async (req) => {
    const actor = operator(req);
    const b = (req.body ?? {}) as Body;
    return done(await qualify(rt.store, req.params.ura, { qualification: str(b.qualification) ?? '', validFrom: str(b.validFrom), validUntil: str(b.validUntil) }, actor));
  });
  app.post<{ Params: { ura: string; qualification: string } }>('/participants/:ura/qualifications/:qualification/withdraw', async (req) => {
    operator(req);
    return done(await withdrawQualification(rt.store, req.params.ura, req.params.qualification));
  });
  app.post('/vendors', async (req, reply) => {
    const actor = operator(req);
    const b = (req.body ?? {}) as Body;
    const v = await registerVendor(rt.store, { kvk: str(b.kvk) ?? '', name: str(b.name) ?? '', hosts: Array.isArray(b.hosts) ? b.hosts.map(String) : [] }, actor);
    return reply.code(201).send(done(v));
  });
  app.post<{ Params: { kvk: string } }>('/vendors/:kvk/status', async (req) => {
    const actor = operator(req);
    const b = (req.body ?? {}) as Body;
    return done(await setVendorStatus(rt.store, req.params.kvk, str(b.status) as ParticipantStatus, str(b.reason) ?? '', actor));
  });

  // A CSR from the operator names its holder; one from a participant is a renewal of its own.
  app.post('/certificates', async (req, reply) => {
    if (!rt.ca) throw forbidden('this trust instance holds no network CA key');
    const b = (req.body ?? {}) as Body;
    const csrPem = str(b.csr);
    if (!csrPem) throw badRequest('csr (PKCS#10 PEM) is required');
    const peer = req.peer!;
    const list = (v: unknown) => (Array.isArray(v) ? v.map(String) : undefined);
    const input = rt.isOperator(peer)
      ? { ura: str(b.ura), kvk: str(b.kvk), systemNumber: str(b.systemNumber) }
      : { ura: peer.ura || undefined, kvk: peer.ura ? undefined : peer.kvk, systemNumber: peer.systemNumber || undefined, replaces: peer.serialNumber };
    const issued = await issueFromCsr(rt.store, rt.ca, { csrPem, ...input, dnsNames: list(b.dnsNames), ipAddresses: list(b.ipAddresses) });
    req.log.info({ event: 'certificate.issued', serial: issued.serial, ura: input.ura, kvk: input.kvk }, 'certificate issued');
    return reply.code(201).send(done({ serial: issued.serial, thumbprint: issued.thumbprint, certificate: issued.certPem, notAfter: issued.notAfter }));
  });
  app.post<{ Params: { serial: string } }>('/certificates/:serial/revoke', async (req) => {
    const cert = await getCertificate(rt.store, req.params.serial);
    const peer = req.peer!;
    const holder = (cert.ura && cert.ura === peer.ura) || (!cert.ura && cert.kvk && cert.kvk === peer.kvk);
    if (!rt.isOperator(peer) && !holder) throw forbidden('only the operator or the holder may revoke a certificate');
    const reason = str(((req.body ?? {}) as Body).reason) ?? 'unspecified';
    req.log.warn({ event: 'certificate.revoked', serial: cert.serial, reason }, 'certificate revoked');
    return done(await revokeCertificate(rt.store, cert.serial, reason));
  });

  app.post('/agreements', async (req, reply) => {
    const actor = operator(req);
    const doc = await publishAgreements(rt.store, req.body as AgreementsDocument, actor);
    return reply.code(201).send(done({ version: doc.version }));
  });
  app.post('/agreements/network', async (req, reply) => {
    const actor = operator(req);
    const b = (req.body ?? {}) as Body;
    const doc = await changeNetworkSettings(
      rt.store,
      { consentMode: str(b.consentMode) as AgreementsDocument['network']['consentMode'] | undefined, statusMaxAgeSeconds: typeof b.statusMaxAgeSeconds === 'number' ? b.statusMaxAgeSeconds : undefined },
      actor,
    );
    return reply.code(201).send(done({ version: doc.version, network: doc.network }));
  });
}
