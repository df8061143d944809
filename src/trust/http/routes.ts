import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { badRequest, forbidden } from '../../kit/fhir/outcome.ts';
import { AGREEMENTS_MEDIA_TYPE } from '../agreements/jws.ts';
import { changeNetworkSettings, publishAgreements } from '../agreements/store.ts';
import type { AgreementsDocument } from '../agreements/types.ts';
import { getCertificate, issueFromCsr, revokeCertificate } from '../certificates/lifecycle.ts';
import { listCertificates, parseCertificateListQuery } from '../certificates/list.ts';
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
import { isHostname, isIpAddress, objectBody, optionalAddress, optionalNumber, optionalText, optionalTextList, requiredText } from './bodies.ts';

// The trust part's own API. Public: the signed agreements and status list. Every participant:
// reading the register (plain JSON: this is an administrative register; the directory part
// publishes organisations as FHIR) and renewing its own certificate. The operator (configured
// URA, optionally system number): admitting, suspending, revoking, qualifying, publishing.


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
  // The whole list is the operator's: it names every holder's certificates.
  app.get('/certificates', async (req) => {
    operator(req);
    const q = parseCertificateListQuery((req.query ?? {}) as Record<string, unknown>);
    const page = await listCertificates(rt.store, q);
    const next = q.offset + page.certificates.length < page.total ? q.offset + q.count : undefined;
    return { ...page, count: q.count, offset: q.offset, ...(next !== undefined ? { nextOffset: next } : {}) };
  });

  app.post('/participants', async (req, reply) => {
    const actor = operator(req);
    const b = objectBody(req.body);
    const input: ParticipantInput = {
      ura: requiredText(b, 'ura'),
      name: requiredText(b, 'name'),
      organizationType: requiredText(b, 'organizationType'),
      agb: optionalText(b, 'agb'),
      address: optionalAddress(b, 'address'),
    };
    const p = await registerParticipant(rt.store, input, actor);
    return reply.code(201).send(done(p));
  });
  app.post<{ Params: { ura: string } }>('/participants/:ura/status', async (req) => {
    const actor = operator(req);
    const b = objectBody(req.body);
    return done(await setParticipantStatus(rt.store, req.params.ura, requiredText(b, 'status') as ParticipantStatus, optionalText(b, 'reason') ?? '', actor));
  });
  app.post<{ Params: { ura: string } }>('/participants/:ura/qualifications', async (req) => {
    const actor = operator(req);
    const b = objectBody(req.body);
    const input = { qualification: requiredText(b, 'qualification'), validFrom: optionalText(b, 'validFrom'), validUntil: optionalText(b, 'validUntil') };
    return done(await qualify(rt.store, req.params.ura, input, actor));
  });
  app.post<{ Params: { ura: string; qualification: string } }>('/participants/:ura/qualifications/:qualification/withdraw', async (req) => {
    operator(req);
    objectBody(req.body, { optional: true });
    return done(await withdrawQualification(rt.store, req.params.ura, req.params.qualification));
  });
  app.post('/vendors', async (req, reply) => {
    const actor = operator(req);
    const b = objectBody(req.body);
    const v = await registerVendor(rt.store, { kvk: requiredText(b, 'kvk'), name: requiredText(b, 'name'), hosts: optionalTextList(b, 'hosts') ?? [] }, actor);
    return reply.code(201).send(done(v));
  });
  app.post<{ Params: { kvk: string } }>('/vendors/:kvk/status', async (req) => {
    const actor = operator(req);
    const b = objectBody(req.body);
    return done(await setVendorStatus(rt.store, req.params.kvk, requiredText(b, 'status') as ParticipantStatus, optionalText(b, 'reason') ?? '', actor));
  });

  // A CSR from the operator names its holder; one from a participant is a renewal of its own.
  app.post('/certificates', async (req, reply) => {
    if (!rt.ca) throw forbidden('this trust instance holds no network CA key');
    const b = objectBody(req.body);
    const csrPem = optionalText(b, 'csr');
    if (!csrPem) throw badRequest('csr (PKCS#10 PEM) is required', ['csr']);
    const peer = req.peer!;
    const input = rt.isOperator(peer)
      ? { ura: optionalText(b, 'ura'), kvk: optionalText(b, 'kvk'), systemNumber: optionalText(b, 'systemNumber') }
      : { ura: peer.ura || undefined, kvk: peer.ura ? undefined : peer.kvk, systemNumber: peer.systemNumber || undefined, replaces: peer.serialNumber };
    const dnsNames = optionalTextList(b, 'dnsNames', isHostname);
    const ipAddresses = optionalTextList(b, 'ipAddresses', isIpAddress);
    const issued = await issueFromCsr(rt.store, rt.ca, { csrPem, ...input, dnsNames, ipAddresses });
    req.log.info({ event: 'certificate.issued', serial: issued.serial, ura: input.ura, kvk: input.kvk }, 'certificate issued');
    return reply.code(201).send(done({ serial: issued.serial, thumbprint: issued.thumbprint, certificate: issued.certPem, notAfter: issued.notAfter }));
  });
  app.post<{ Params: { serial: string } }>('/certificates/:serial/revoke', async (req) => {
    const cert = await getCertificate(rt.store, req.params.serial);
    const peer = req.peer!;
    const holder = (cert.ura && cert.ura === peer.ura) || (!cert.ura && cert.kvk && cert.kvk === peer.kvk);
    if (!rt.isOperator(peer) && !holder) throw forbidden('only the operator or the holder may revoke a certificate');
    const reason = optionalText(objectBody(req.body, { optional: true }), 'reason') ?? 'unspecified';
    req.log.warn({ event: 'certificate.revoked', serial: cert.serial, reason }, 'certificate revoked');
    return done(await revokeCertificate(rt.store, cert.serial, reason));
  });

  app.post('/agreements', async (req, reply) => {
    const actor = operator(req);
    const doc = await publishAgreements(rt.store, objectBody(req.body) as unknown as AgreementsDocument, actor);
    return reply.code(201).send(done({ version: doc.version }));
  });
  app.post('/agreements/network', async (req, reply) => {
    const actor = operator(req);
    const b = objectBody(req.body);
    const doc = await changeNetworkSettings(
      rt.store,
      { consentMode: optionalText(b, 'consentMode') as AgreementsDocument['network']['consentMode'] | undefined, statusMaxAgeSeconds: optionalNumber(b, 'statusMaxAgeSeconds') },
      actor,
    );
    return reply.code(201).send(done({ version: doc.version, network: doc.network }));
  });
}
