import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createLocalJWKSet } from 'jose';
import type { PartClient } from '../../kit/http/client.ts';
import { generateSigningKey } from '../auth/keys.ts';
import { defaultAgreements } from './default-agreements.ts';
import { AGREEMENTS_MEDIA_TYPE, AgreementsRefused, signAgreements } from './jws.ts';
import { startAgreementsSource } from './source.ts';

// A part's first agreements document: a trust part that cannot answer yet is asked again (a part
// holding none denies everything), a document whose signature fails is refused at once.

async function signed() {
  const key = await generateSigningKey();
  const jws = await signAgreements(defaultAgreements(), key);
  return { jws, jwks: createLocalJWKSet({ keys: [key.publicJwk] }) };
}

/** A trust part that answers with the given statuses in turn, then with the document. */
function trustAnswering(statuses: number[], jws: string): { client: PartClient; calls: () => number } {
  let calls = 0;
  const client = {
    async call() {
      const status = statuses[calls++] ?? 200;
      return { status, text: status === 200 ? jws : 'busy', headers: { 'content-type': AGREEMENTS_MEDIA_TYPE }, body: undefined };
    },
  } as unknown as PartClient;
  return { client, calls: () => calls };
}

describe('the agreements source at start', () => {
  it('asks a trust part that answered 503 again and holds the document', async () => {
    const { jws, jwks } = await signed();
    const trust = trustAnswering([503], jws);
    const source = await startAgreementsSource({ trustUrl: () => 'https://trust', client: trust.client, jwks, refreshMs: 60_000 });
    try {
      assert.equal(trust.calls(), 2);
      assert.equal(source.current().version, defaultAgreements().version);
    } finally {
      source.stop();
    }
  });

  it('refuses a document signed by another key at once, without asking again', async () => {
    const { jws } = await signed();
    const other = await signed();
    const trust = trustAnswering([], jws);
    await assert.rejects(startAgreementsSource({ trustUrl: () => 'https://trust', client: trust.client, jwks: other.jwks }), AgreementsRefused);
    assert.equal(trust.calls(), 1);
  });

  it('gives up after three tries of a trust part that never answers', async () => {
    const { jws, jwks } = await signed();
    const trust = trustAnswering([503, 503, 503, 503], jws);
    await assert.rejects(startAgreementsSource({ trustUrl: () => 'https://trust', client: trust.client, jwks }), /unavailable for now/);
    assert.equal(trust.calls(), 3);
  });
});
