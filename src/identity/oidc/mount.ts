import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Provider } from 'oidc-provider';
import { DISCOVERY_PATH, OIDC_ROUTES } from '../constants.ts';

// Mounts oidc-provider (a Koa app) inside the part's Fastify app: its routes are forwarded
// raw (reply.hijack), and request bodies are left unread so the library parses them itself.

export const OIDC_PUBLIC_PATHS = [DISCOVERY_PATH, ...Object.values(OIDC_ROUTES)];

export async function mountProvider(app: FastifyInstance, getProvider: () => Promise<Provider>): Promise<void> {
  await app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (_request, _payload, done) => done(null));
    let handler: ((req: FastifyRequest['raw'], res: FastifyReply['raw']) => Promise<void>) | undefined;
    const forward = async (request: FastifyRequest, reply: FastifyReply) => {
      handler ??= (await getProvider()).callback();
      reply.hijack();
      await handler(request.raw, reply.raw);
    };
    for (const path of OIDC_PUBLIC_PATHS) {
      scope.all(path, forward);
      scope.all(`${path}/*`, forward);
    }
  });
}
