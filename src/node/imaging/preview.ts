import { request as undiciRequest } from 'undici';
import { forbidden, HttpError, notFound } from '../../kit/fhir/outcome.ts';
import { PartClient } from '../../kit/http/client.ts';
import { readBounded } from '../../kit/http/bounded-body.ts';
import { childTraceparent, type TraceContext } from '../../kit/trace.ts';
import { exchangeByCode, TokenRequestError, TrustTokenProvider } from '../../trust/contract.ts';
import type { NodeEnvironment, NodeTenant } from '../environment.ts';

// The requester side of an image preview: the clinician's node fetches one rendered frame from
// the holder's WADO-RS gate (addressed through the directory, never from a URL the browser
// sends) with an access token carrying her verklaring, and hands the image to her viewer.

const MAX_IMAGE_BYTES = 10 * 1024 * 1024;

export interface PreviewRequest {
  tenant: NodeTenant;
  verklaring: string;
  holderUra: string;
  exchange: string;
  study: string;
  series?: string;
  trace?: TraceContext;
}

export interface ImagePreviewer {
  fetch(req: PreviewRequest): Promise<{ contentType: string; body: Buffer }>;
  close(): Promise<void>;
}

export function createImagePreviewer(env: NodeEnvironment, options: { deadlineMs?: number } = {}): ImagePreviewer {
  const clients = new Map<string, { client: PartClient; tokens: TrustTokenProvider }>();
  const clientFor = (tenant: NodeTenant) => {
    let c = clients.get(tenant.ura);
    if (!c) {
      const tokens = new TrustTokenProvider({ tls: tenant.identity, ura: tenant.ura, tokenEndpoint: (resource) => `${new URL(resource).origin}/oauth/token` });
      c = { client: new PartClient({ tls: tenant.identity, tokens, maxRetries: 0, connections: 8 }), tokens };
      clients.set(tenant.ura, c);
    }
    return c;
  };

  return {
    async fetch(req) {
      const exchange = exchangeByCode(env.agreements(), req.exchange);
      if (!exchange?.queries.some((q) => q.resourceType === 'ImagingStudy')) throw forbidden(`the ${req.exchange} exchange does not cover images`);
      const endpoint = await env.endpoint(req.holderUra, exchange.code);
      if (!endpoint) throw notFound('the care-services directory has no endpoint of that organisation for this exchange');
      const resource = endpoint.address.replace(/\/fhir\/?$/, '');
      const url = `${resource}/dicomweb/studies/${req.study}${req.series ? `/series/${req.series}` : ''}/rendered`;
      const { client, tokens } = clientFor(req.tenant);
      let token: string;
      try {
        token = await tokens.token(resource, exchange.scopes[0], { userAssertion: req.verklaring });
      } catch (err) {
        if (err instanceof TokenRequestError) throw forbidden(`token refused: ${err.description}`);
        throw err;
      }
      const res = await undiciRequest(url, {
        dispatcher: client.agent,
        headers: { authorization: `Bearer ${token}`, accept: 'image/png', traceparent: childTraceparent(req.trace) },
        signal: AbortSignal.timeout(options.deadlineMs ?? 10_000),
      }).catch((err: Error) => {
        throw new HttpError(502, 'transient', `the holder's image gate did not answer: ${err.message}`);
      });
      const image = await readBounded(res.body, MAX_IMAGE_BYTES);
      if (!image) throw new HttpError(502, 'too-costly', 'the preview is larger than a preview may be');
      if (res.statusCode === 401 || res.statusCode === 403) throw forbidden('the holder refused the image');
      if (res.statusCode !== 200) throw new HttpError(502, 'transient', `the holder's image gate answered HTTP ${res.statusCode}`);
      const contentType = String(res.headers['content-type'] ?? '');
      if (!/^image\/(png|jpeg)$/.test(contentType)) throw new HttpError(502, 'transient', 'the holder did not answer with an image');
      return { contentType, body: image };
    },
    async close() {
      for (const c of clients.values()) {
        await c.client.close();
        await c.tokens.close?.();
      }
    },
  };
}
