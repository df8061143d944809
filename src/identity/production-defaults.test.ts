import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { createService, type RunningService } from '../kit/http/service.ts';
import type { PartDefinition } from '../kit/part.ts';
import { migrate } from '../kit/store/migrate.ts';
import { openIsolatedPgliteStore } from '../kit/store/pglite.ts';
import type { Store } from '../kit/store/store.ts';
import { createTestPki, staticNetwork, type TestPki } from '../kit/testing/test-pki.ts';
import { castCitizenDirectory, castDirectoryIfAsked, castProfessionalDirectory } from '../sandbox/people.ts';
import { CITIZEN_IDENTITY_MIGRATIONS, createCitizenIdentityPart } from './citizen.ts';
import { setPassword } from './credentials.ts';
import { createIdentityPart, IDENTITY_MIGRATIONS } from './professional.ts';
import { TestBrowser } from './testing/browser.ts';

// Outside the sandbox (`ldn serve identity`, settings only) neither provider offers the
// password-less pick-from-the-cast page: without a configured directory it does not start, and
// with one it asks a password unless require_password is explicitly false.

const REDIRECT = 'https://portal.test/callback';
const CLIENT = { client_id: 'app', redirect_uris: [REDIRECT], token_endpoint_auth_method: 'none' as const };
const BAKKER = '900001011';
const DE_GROOT = '900010010';

function authorizeUrl(base: string): string {
  const verifier = randomBytes(32).toString('base64url');
  const q = new URLSearchParams({
    client_id: CLIENT.client_id,
    redirect_uri: REDIRECT,
    response_type: 'code',
    scope: 'openid',
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
    nonce: randomBytes(8).toString('hex'),
    state: randomBytes(8).toString('hex'),
  });
  return `${base}/authorize?${q}`;
}

describe('identity providers outside the sandbox', () => {
  let pki: TestPki;
  const stores: Store[] = [];
  const services: RunningService[] = [];
  const browsers: TestBrowser[] = [];
  /** One browser per provider: the test browser keeps cookies for one origin. */
  const newBrowser = () => {
    const b = new TestBrowser(pki.ca.certPem);
    browsers.push(b);
    return b;
  };

  const start = async (part: PartDefinition, migrations: typeof IDENTITY_MIGRATIONS, settings: Record<string, string>) => {
    const store = await openIsolatedPgliteStore(part.schema);
    stores.push(store);
    await migrate(store, migrations);
    const svc = await createService(part, { tls: await pki.identity('90000001', { name: part.name }), network: staticNetwork({}), store, settings });
    services.push(svc);
    return svc;
  };

  before(async () => {
    pki = await createTestPki();
  });
  after(async () => {
    for (const b of browsers) await b.close();
    for (const s of services) await s.close();
    for (const s of stores) await s.close();
  });

  it('does not start without a directory of people (no silent fallback to the cast)', async () => {
    await assert.rejects(start(createIdentityPart({ clients: [CLIENT] }), IDENTITY_MIGRATIONS, {}), /directory/);
    await assert.rejects(start(createCitizenIdentityPart({ clients: [CLIENT] }), CITIZEN_IDENTITY_MIGRATIONS, {}), /directory/);
    await assert.rejects(start(createIdentityPart({ clients: [CLIENT] }), IDENTITY_MIGRATIONS, { directory: 'everyone' }), /directory/);
    // The cast is the composer's to give: the part itself never falls back to it, even with directory=cast.
    await assert.rejects(start(createIdentityPart({ clients: [CLIENT] }), IDENTITY_MIGRATIONS, { directory: 'cast' }), /directory/);
    assert.equal(castDirectoryIfAsked({ directory: 'everyone' }, castProfessionalDirectory), undefined);
    await assert.rejects(start(createIdentityPart({ clients: [CLIENT], directory: castDirectoryIfAsked({ directory: 'cast' }, castProfessionalDirectory) }), IDENTITY_MIGRATIONS, { directory: 'cast', require_password: 'nee' }), /require_password/);
  });

  it('asks the professional for a password by default, and refuses a login without one', async () => {
    const svc = await start(createIdentityPart({ clients: [CLIENT], directory: castDirectoryIfAsked({ directory: 'cast' }, castProfessionalDirectory) }), IDENTITY_MIGRATIONS, { directory: 'cast' });
    const browser = newBrowser();
    const page = await browser.follow(authorizeUrl(svc.url), REDIRECT);
    assert.equal(page.status, 200, page.body);
    assert.match(page.body, /type="password"/);
    assert.doesNotMatch(page.body, /Ziekenhuis Veluwe|type="radio"/);
    const picked = await browser.follow(page.url, REDIRECT, { form: { account: BAKKER, do: 'login', lang: 'nl' } });
    assert.equal(picked.location?.startsWith(REDIRECT) ?? false, false, 'no password, no login');
    assert.match(picked.body, /Onbekende gebruiker of onjuist wachtwoord/);
    await setPassword(svc.store, BAKKER, 'correct horse battery');
    const done = await browser.follow(picked.url, REDIRECT, { form: { account: BAKKER, password: 'correct horse battery', do: 'login', lang: 'nl' } });
    assert.ok(done.location?.startsWith(REDIRECT), `expected a redirect to the client, got ${done.status} ${done.body}`);
  });

  it('asks the citizen for a password by default', async () => {
    const svc = await start(createCitizenIdentityPart({ clients: [CLIENT], directory: castDirectoryIfAsked({ directory: 'cast' }, castCitizenDirectory) }), CITIZEN_IDENTITY_MIGRATIONS, { directory: 'cast' });
    const browser = newBrowser();
    const page = await browser.follow(authorizeUrl(svc.url), REDIRECT);
    assert.match(page.body, /type="password"/);
    assert.doesNotMatch(page.body, /type="radio"/);
    const picked = await browser.follow(page.url, REDIRECT, { form: { account: DE_GROOT, do: 'login', lang: 'nl' } });
    assert.equal(picked.location?.startsWith(REDIRECT) ?? false, false, 'no password, no login');
  });

  it('offers the pick list only when require_password is explicitly false', async () => {
    const svc = await start(createIdentityPart({ clients: [CLIENT], directory: castDirectoryIfAsked({ directory: 'cast' }, castProfessionalDirectory) }), IDENTITY_MIGRATIONS, { directory: 'cast', require_password: 'false' });
    const browser = newBrowser();
    const page = await browser.follow(authorizeUrl(svc.url), REDIRECT);
    assert.match(page.body, /type="radio"/);
    assert.doesNotMatch(page.body, /type="password"/);
  });
});
