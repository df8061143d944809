import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { HttpError } from '../kit/fhir/outcome.ts';
import type { Peer } from '../kit/part.ts';
import { actorOf } from './researcher.ts';

// Who the HDAB acts for: a certificate's own organisation, or, only from the researcher portal's
// certificate, the organisation a verified researcher's verklaring names.

const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
const verklaring = (ura: string) => `${b64({ alg: 'ES256' })}.${b64({ abonnee_nummer: ura, dezi_nummer: '900009601' })}.c2ln`;
const peer = (ura: string, thumbprint: string) => ({ ura, thumbprint, systemNumber: '7', commonName: 'x' }) as unknown as Peer;
const PORTAL = peer('90000001', 'portal-thumb');

describe('HDAB caller: organisation or researcher through the portal', () => {
  const verified: string[] = [];
  const actor = actorOf({
    isResearcherPortal: (p) => p.thumbprint === 'portal-thumb',
    async verifyVerklaring(jwt, ura) {
      if (jwt.endsWith('.bad')) throw new Error('signature');
      verified.push(ura);
      return { deziNumber: '900009601', name: 'R. de Boer', ura };
    },
  });

  it('a certificate without the header acts for its own organisation', async () => {
    assert.deepEqual(await actor(peer('90000960', 'uni'), undefined), { ura: '90000960' });
  });

  it('the portal with a verified verklaring acts for the verklaring\'s organisation, naming the researcher', async () => {
    const who = await actor(PORTAL, verklaring('90000960'));
    assert.deepEqual(who, { ura: '90000960', researcher: { deziNumber: '900009601', name: 'R. de Boer' } });
    assert.deepEqual(verified, ['90000960'], 'verified for the organisation it names');
  });

  it('refuses the header from anyone but the portal, a malformed or unverifiable verklaring, and no certificate', async () => {
    await assert.rejects(actor(peer('90000960', 'uni'), verklaring('90000960')), (e: HttpError) => e.status === 403);
    await assert.rejects(actor(PORTAL, 'not-a-jwt'), (e: HttpError) => e.status === 401);
    await assert.rejects(actor(PORTAL, `${b64({})}.${b64({ abonnee_nummer: 'x' })}.c2ln`), (e: HttpError) => e.status === 401);
    await assert.rejects(actor(PORTAL, `${verklaring('90000960').slice(0, -5)}.bad`), (e: HttpError) => e.status === 401);
    await assert.rejects(actor(undefined, undefined), (e: HttpError) => e.status === 403);
  });
});
