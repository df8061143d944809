import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CODE_SYSTEM } from '../kit/identifiers/systems.ts';
import { migrate } from '../kit/store/migrate.ts';
import { openPgliteStore } from '../kit/store/pglite.ts';
import type { Store } from '../kit/store/store.ts';
import { ORGANIZATIONS, VENDORS } from '../sandbox/cast.ts';
import { defaultAgreements } from '../trust/agreements/default-agreements.ts';
import { applyTransaction } from './feed.ts';
import { DIRECTORY_MIGRATIONS } from './migrations.ts';
import { publishCast, withCurrentVersions } from './publish-cast.ts';
import { localFetcher } from './replica/fetchers.ts';
import { REPLICA_MIGRATIONS } from './replica/migrations.ts';
import { findEndpoints } from './replica/search.ts';
import { UpdateClient } from './replica/update-client.ts';

describe('publishing the sandbox cast', () => {
  let dir: Store;
  let rep: Store;
  const nodeUrls = { veluwe: 'https://127.0.0.1:9101', leiden: 'https://127.0.0.1:9102', zuid: 'https://127.0.0.1:9103' };
  const publications = publishCast({ organizations: ORGANIZATIONS, vendors: VENDORS, nodeUrls, agreements: defaultAgreements() });

  before(async () => {
    dir = await openPgliteStore('directory');
    rep = await openPgliteStore('node');
    await migrate(dir, DIRECTORY_MIGRATIONS);
    await migrate(rep, REPLICA_MIGRATIONS);
  });
  after(async () => {
    await rep.close();
    await dir.close();
  });

  it('is accepted by the directory, each bundle from its own publisher (the vendor under mandate)', async () => {
    assert.ok(publications.some((p) => p.publisher.kvk === VENDORS[0].kvk));
    for (const p of publications) await applyTransaction(dir, p.publisher, p.bundle);
    // Running it again works once the current versions are given as If-Match.
    for (const p of publications) {
      const again = await withCurrentVersions(p, async (type, id) => {
        const rows = await dir.query<{ v: number }>('SELECT version_id AS v FROM resources WHERE type = $1 AND id = $2', [type, id]);
        return rows[0] ? String(rows[0].v) : null;
      });
      await applyTransaction(dir, p.publisher, again.bundle);
    }
  });

  it("lets every node's replica find the right endpoint for an exchange", async () => {
    await new UpdateClient({ store: rep, directoryUrl: 'https://directory.test', fetch: localFetcher(dir, 'https://directory.test') }).syncNow();
    const gp = await findEndpoints(rep, { ura: '90000103', exchange: 'medicatieoverdracht', fhirVersion: '4.0' });
    assert.deepEqual(gp.map((e) => e.address), ['https://127.0.0.1:9103/fhir/90000103']);
    const leiden = await findEndpoints(rep, { ura: '90000102', exchange: 'beeldbeschikbaarheid' });
    assert.equal(leiden[0].address, 'https://127.0.0.1:9102/fhir/90000102');
    assert.equal((await findEndpoints(rep, { ura: '90000104', exchange: 'beeldbeschikbaarheid' })).length, 0);
    assert.equal((await findEndpoints(rep, { ura: '90000104', payloadType: 'MedicationRequest' })).length, 1);
    // The physiotherapist holds no care exchange: its endpoint serves only its patients' own access.
    const physio = await findEndpoints(rep, { ura: '90000106' });
    assert.deepEqual(physio.flatMap((e) => (e.payloadType ?? []).flatMap((p) => p.coding ?? []).filter((c) => c.system === CODE_SYSTEM.exchange).map((c) => c.code)), ['citizen-access']);
  });
});
