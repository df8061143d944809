import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { directoryForTest, endpoint, organization } from '../directory/test-support.ts';
import { HttpError } from '../kit/fhir/outcome.ts';
import { PartClient } from '../kit/http/client.ts';
import type { RunningService } from '../kit/http/service.ts';
import { createTestPki } from '../kit/testing/test-pki.ts';
import { directorySubscriberOrigins, requireOwnEndpoint, type SubscriberOrigins } from './subscriber-endpoints.ts';

// A subscriber's callback must be on its own node: the origins of its active Endpoints as the
// real directory part lists them (over mutual TLS; tokens are tested with the trust part).

const HOLDER = '44444444';
const OTHER = '55555555';

async function statusOf(p: Promise<unknown>): Promise<number> {
  try {
    await p;
    return 200;
  } catch (err) {
    assert.ok(err instanceof HttpError, String(err));
    return err.status;
  }
}

describe('subscriber endpoints from the directory', () => {
  let directory: RunningService;
  const clients: PartClient[] = [];
  let origins: SubscriberOrigins;

  before(async () => {
    const pki = await createTestPki();
    directory = await directoryForTest(pki);
    const holder = new PartClient({ tls: await pki.identity(HOLDER), maxRetries: 0 });
    const consent = new PartClient({ tls: await pki.identity('90000002', { name: 'consent' }), maxRetries: 0 });
    clients.push(holder, consent);
    const put = async (path: string, body: unknown) => {
      const r = await holder.call(`${directory.url}/${path}`, { method: 'PUT', body, deadlineMs: 30_000 });
      assert.equal(r.status, 201, JSON.stringify(r.body));
    };
    await put('Endpoint/ep-live', { ...endpoint(HOLDER, '99999999', 'https://node.holder.test:8443/fhir'), id: 'ep-live' });
    await put('Endpoint/ep-off', { ...endpoint(HOLDER, '99999999', 'https://old.holder.test/fhir'), id: 'ep-off', status: 'off' });
    await put('Organization/org-holder', {
      ...organization(HOLDER),
      id: 'org-holder',
      endpoint: [{ reference: 'Endpoint/ep-live' }, { reference: 'Endpoint/ep-off' }, { reference: 'Endpoint/ep-gone' }],
    });
    origins = directorySubscriberOrigins({ client: consent, directoryUrl: () => directory.url, deadlineMs: 30_000 });
  });
  after(async () => {
    for (const c of clients) await c.close();
    await directory.close();
    await directory.store.close();
  });

  it('lists the origins of the care provider\'s active endpoints only', async () => {
    assert.deepEqual(await origins(HOLDER), ['https://node.holder.test:8443']);
    assert.deepEqual(await origins(OTHER), []);
  });

  it('accepts a callback on the subscriber\'s own node and refuses every other with 422', async () => {
    assert.equal(await statusOf(requireOwnEndpoint(origins, HOLDER, 'https://node.holder.test:8443/consent/notify')), 200);
    for (const endpoint of [
      'https://node.holder.test/consent/notify', // another port
      'https://old.holder.test/notify', // an endpoint that is no longer active
      'https://169.254.169.254/latest/meta-data', // anywhere else
      'https://user:pw@node.holder.test:8443/notify',
    ]) {
      assert.equal(await statusOf(requireOwnEndpoint(origins, HOLDER, endpoint)), 422, endpoint);
    }
    // Another organisation cannot point notifications at this holder's node.
    assert.equal(await statusOf(requireOwnEndpoint(origins, OTHER, 'https://node.holder.test:8443/consent/notify')), 422);
  });

  it('answers 503, not a guess, when the directory cannot be asked', async () => {
    const unreachable = directorySubscriberOrigins({ client: clients[1], directoryUrl: () => 'https://127.0.0.1:1' });
    assert.equal(await statusOf(requireOwnEndpoint(unreachable, HOLDER, 'https://node.holder.test:8443/notify')), 503);
  });
});
