import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { EhrConnector, EhrError } from './ehr-connector.ts';

// The patient lookup by BSN is shared by the searches of one batch while it is in flight, and
// never kept after it settles: an EHR that corrects a record is believed at the next request.

describe('EhrConnector patient lookup', () => {
  let server: Server;
  let connector: EhrConnector;
  let patientId = 'p1';
  let lookups = 0;
  let hangingClosed = 0;
  before(async () => {
    server = createServer((req, res) => {
      if (req.url?.includes('/Hang')) {
        // Never answers; counts when the connector hangs up.
        res.on('close', () => hangingClosed++);
        return;
      }
      lookups++;
      const id = patientId;
      // A little latency so that concurrent callers overlap with the first one's request.
      setTimeout(() => {
        res.setHeader('content-type', 'application/fhir+json');
        res.end(JSON.stringify({ resourceType: 'Bundle', type: 'searchset', entry: [{ resource: { resourceType: 'Patient', id }, search: { mode: 'match' } }] }));
      }, 20);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    connector = new EhrConnector({ baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/fhir` });
  });
  after(async () => {
    await connector.close();
    await new Promise((r) => server.close(r));
  });

  it('shares one request among concurrent callers', async () => {
    lookups = 0;
    const results = await Promise.all([1, 2, 3, 4].map(() => connector.patientsByBsn('999990019')));
    assert.equal(lookups, 1);
    for (const r of results) assert.deepEqual(r.map((p) => p.id), ['p1']);
  });

  it('asks again once the earlier lookup has settled', async () => {
    lookups = 0;
    await connector.patientsByBsn('999990019');
    patientId = 'p2';
    const second = await connector.patientsByBsn('999990019');
    assert.equal(lookups, 2);
    assert.deepEqual(second.map((p) => p.id), ['p2']);
  });

  it('abandons an EHR call when the caller gives up', async () => {
    const gaveUp = new AbortController();
    const pending = connector.search('Hang', new URLSearchParams(), gaveUp.signal);
    setTimeout(() => gaveUp.abort(), 30);
    await assert.rejects(pending, EhrError);
    for (let i = 0; i < 50 && hangingClosed === 0; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(hangingClosed, 1, 'the EHR saw the call closed');
  });
});
