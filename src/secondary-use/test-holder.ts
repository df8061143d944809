import { randomUUID } from 'node:crypto';
import { createLocalJWKSet, type JSONWebKeySet, jwtVerify } from 'jose';
import { forbidden, notFound, unauthorized } from '../kit/fhir/outcome.ts';
import { PartClient } from '../kit/http/client.ts';
import type { PartDefinition } from '../kit/part.ts';
import { EXPORT_PARAM_PERMIT, EXPORT_PARAM_TYPE, HDAB_JWKS_PATH, NDJSON_CONTENT_TYPE, PERMIT_TYP, PROGRESS_HEADER } from './contract.ts';
import type { DeliveredFile } from './workspace.ts';

// A holder node as the contract describes it, for the HDAB's tests until the real one (branch
// bulk-export) is merged: it checks that the caller is the HDAB and the permit verifies against
// the HDAB's published JWKS, answers the kick-off with 202, is "running" on the first status
// poll, then serves the manifest and the NDJSON files, and forgets a job on DELETE. It does not
// pseudonymise: it serves the fixture files it was given.

export interface TestHolderOptions {
  hdabUra: string;
  hdabUrl: () => string;
  /** The files per tenant URA, already as the contract says they must be. */
  files: (ura: string, types: string[]) => DeliveredFile[];
}

export function createTestHolder(o: TestHolderOptions): PartDefinition & { deleted: string[]; kickOffs: number } {
  const jobs = new Map<string, { polls: number; files: DeliveredFile[]; request: string }>();
  const deleted: string[] = [];
  const state = { kickOffs: 0 };
  return {
    name: 'test-holder',
    schema: 'test_holder',
    migrations: [],
    deleted,
    get kickOffs() {
      return state.kickOffs;
    },
    async register(app, ctx) {
      const client = new PartClient({ tls: ctx.tls, maxRetries: 0 });
      const requireHdab = (request: { peer?: { ura: string }; headers: Record<string, unknown> }) => {
        if (!String(request.headers.authorization ?? '').startsWith('Bearer ')) throw unauthorized('an org-to-org token is required');
        if (request.peer?.ura !== o.hdabUra) throw forbidden('only the HDAB asks for an export');
      };
      // The node's own authorisation server, reduced to what the HDAB's token provider needs.
      app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => done(null, body));
      app.post('/oauth/token', async () => ({ access_token: randomUUID(), token_type: 'Bearer', expires_in: 300 }));
      app.post<{ Params: { ura: string } }>('/org/:ura/fhir/$export', async (request, reply) => {
        requireHdab(request);
        state.kickOffs += 1;
        const params = (request.body as { parameter?: Array<{ name: string; valueString?: string }> }).parameter ?? [];
        const jws = params.find((p) => p.name === EXPORT_PARAM_PERMIT)?.valueString ?? '';
        const types = (params.find((p) => p.name === EXPORT_PARAM_TYPE)?.valueString ?? '').split(',');
        const jwks = await client.json<JSONWebKeySet>(`${o.hdabUrl()}${HDAB_JWKS_PATH}`);
        try {
          await jwtVerify(jws, createLocalJWKSet(jwks), { issuer: o.hdabUrl(), typ: PERMIT_TYP, algorithms: ['ES256'] });
        } catch (err) {
          throw forbidden(`permit refused: ${(err as Error).message}`);
        }
        const id = randomUUID();
        jobs.set(id, { polls: 0, files: o.files(request.params.ura, types), request: `${ctx.baseUrl}${request.url}` });
        return reply.code(202).header('content-location', `${ctx.baseUrl}/bulk/${id}`).send();
      });
      app.get<{ Params: { id: string } }>('/bulk/:id', async (request, reply) => {
        requireHdab(request);
        const job = jobs.get(request.params.id);
        if (!job) throw notFound('no such export');
        if (job.polls++ === 0) return reply.code(202).header(PROGRESS_HEADER, 'running').header('retry-after', '0').send();
        return {
          transactionTime: new Date().toISOString(),
          request: job.request,
          requiresAccessToken: true,
          output: job.files.map((f, i) => ({ type: f.type, url: `${ctx.baseUrl}/bulk/${request.params.id}/${i}.ndjson`, count: f.ndjson.split('\n').filter(Boolean).length })),
          error: [],
        };
      });
      app.get<{ Params: { id: string; file: string } }>('/bulk/:id/:file', async (request, reply) => {
        requireHdab(request);
        const f = jobs.get(request.params.id)?.files[Number.parseInt(request.params.file, 10)];
        if (!f) throw notFound('no such file');
        return reply.type(NDJSON_CONTENT_TYPE).send(f.ndjson);
      });
      app.delete<{ Params: { id: string } }>('/bulk/:id', async (request, reply) => {
        requireHdab(request);
        jobs.delete(request.params.id);
        deleted.push(request.params.id);
        return reply.code(202).send();
      });
    },
  };
}
