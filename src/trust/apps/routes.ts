import type { FastifyInstance, FastifyRequest } from 'fastify';
import { forbidden } from '../../kit/fhir/outcome.ts';
import { objectBody, optionalText, requiredText } from '../http/bodies.ts';
import type { TrustRuntime } from '../runtime.ts';
import { checkAppInput, getApp, listApps, registerApp, setAppStatus } from './register.ts';

// The app register's API: every admitted participant (the operator's portal in the first place)
// reads it over mutual TLS; only the operator registers apps and changes their status.

export function registerCitizenAppRoutes(app: FastifyInstance, rt: TrustRuntime): void {
  const operator = (request: FastifyRequest): string => {
    if (!rt.isOperator(request.peer)) throw forbidden('this operation needs the network operator certificate');
    return `operator:${request.peer!.ura}/${request.peer!.systemNumber}`;
  };
  app.get('/citizen-apps', async () => ({ apps: await listApps(rt.store) }));
  app.get<{ Params: { clientId: string } }>('/citizen-apps/:clientId', async (req) => getApp(rt.store, req.params.clientId));
  app.post('/citizen-apps', async (req, reply) => {
    const actor = operator(req);
    return reply.code(201).send(await registerApp(rt.store, checkAppInput(objectBody(req.body)), actor));
  });
  app.post<{ Params: { clientId: string } }>('/citizen-apps/:clientId/status', async (req) => {
    operator(req);
    const b = objectBody(req.body);
    return setAppStatus(rt.store, req.params.clientId, requiredText(b, 'status'), optionalText(b, 'reason') ?? '');
  });
}
