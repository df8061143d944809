import { createLocalJWKSet, jwtVerify, SignJWT } from 'jose';
import { peerFromDer } from '../src/kit/http/peer.ts';
import { pemToDer } from '../src/kit/pki/certificates.ts';
import { migrate } from '../src/kit/store/migrate.ts';
import { openIsolatedPgliteStore } from '../src/kit/store/pglite.ts';
import { openPostgresStore } from '../src/kit/store/postgres.ts';
import type { Store } from '../src/kit/store/store.ts';
import { TEST_DATABASE_URL } from '../src/kit/testing/backends.ts';
import { createTestPki } from '../src/kit/testing/test-pki.ts';
import {
  authMigrations,
  CLIENT_ASSERTION_TYPE,
  createClientAssertion,
  generateSigningKey,
  publicJwks,
  TokenIssuer,
  verifyAccessToken,
} from '../src/trust/auth/index.ts';
import { webCryptoKeyOf } from '../src/trust/auth/keys.ts';
import { argValue, figure } from './lib/report.ts';

// Token issuance and access-token verification per second, each against raw jose doing the
// same ES256 work in the same run: issuance = verify the client assertion + sign the token
// (plus our checks, the single-use jti insert and the scope decision); verification = one
// signature check (plus issuer, audience, expiry, scope and certificate binding).
// `npm run bench -- tokens [--seconds 3] [--concurrency 8] [--postgres]`

const ROUNDS = 6;

async function postgresStore(): Promise<Store> {
  const schema = `benchtokens_${process.pid}`;
  const store = await openPostgresStore(schema, TEST_DATABASE_URL, 8);
  const close = store.close.bind(store);
  return {
    ...store,
    query: store.query,
    exec: store.exec,
    transaction: store.transaction,
    schema,
    backend: 'postgres',
    async close() {
      await store.exec(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await close();
    },
  };
}

async function rate(
  seconds: number,
  concurrency: number,
  op: (i: number) => Promise<unknown>,
): Promise<number> {
  let n = 0;
  const end = performance.now() + seconds * 1000;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) await op(n++);
    }),
  );
  return n / ((performance.now() - start) / 1000);
}

export async function run(args: string[]): Promise<void> {
  const seconds = argValue(args, '--seconds', 3);
  const concurrency = argValue(args, '--concurrency', 8);
  const pki = await createTestPki();
  const identity = await pki.identity('90000101');
  const peer = peerFromDer(pemToDer(identity.cert))!;
  // The store holding the single-use jti register: PGlite (embedded default, runs on this
  // thread) or, with --postgres, the test PostgreSQL (production shape).
  const onPostgres = args.includes('--postgres');
  const store = onPostgres ? await postgresStore() : await openIsolatedPgliteStore('benchtokens');
  await migrate(store, authMigrations);
  const signingKey = await generateSigningKey();
  const issuerUrl = 'https://trust.bench';
  const resource = 'https://nvi.bench';
  const issuer = new TokenIssuer({
    issuer: issuerUrl,
    signingKey,
    store,
    scopesFor: async (_c, requested) => requested,
  });
  const tokenEndpoint = issuer.tokenEndpoint;

  // Assertions are the client's cost: made before the clock starts, one per grant (single-use jti).
  // Refilled before each issuance run with fresh assertions, so none expires while waiting.
  let assertions: string[] = [];
  let used = 0;
  const refill = async (count: number) => {
    assertions = await Promise.all(
      Array.from({ length: count }, () =>
        createClientAssertion({ identity, ura: '90000101', tokenEndpoint, lifetimeSeconds: 300 }),
      ),
    );
    used = 0;
  };
  await refill(2000);
  const params = (i: number) => ({
    grant_type: 'client_credentials',
    client_assertion_type: CLIENT_ASSERTION_TYPE,
    client_assertion: assertions[i],
    scope: 'nvi:read',
    resource,
  });
  const certKey = await webCryptoKeyOf(peer.certificate.publicKey); // the same ready key the issuer uses
  const rawIssue = async (i: number) => {
    await jwtVerify(assertions[i % assertions.length], certKey, {
      algorithms: ['ES256'],
      audience: tokenEndpoint,
    });
    return new SignJWT({ scope: 'nvi:read', client_id: '90000101', cnf: { 'x5t#S256': peer.thumbprint } })
      .setProtectedHeader({ alg: 'ES256', kid: signingKey.kid, typ: 'at+jwt' })
      .setIssuer(issuerUrl)
      .setSubject('90000101')
      .setAudience(resource)
      .setIssuedAt()
      .setExpirationTime('5m')
      .setJti(String(i))
      .sign(signingKey.privateKey);
  };
  const rawSign = (i: number) =>
    new SignJWT({ scope: 'nvi:read', jti: String(i) })
      .setProtectedHeader({ alg: 'ES256' })
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(signingKey.privateKey);

  // The machine may be shared: the two sides alternate in short rounds, each round yields a
  // ratio of adjacent runs, and the median ratio (and median rates) are reported.
  const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];
  const compare = async (
    ours: (i: number) => Promise<unknown>,
    raw: (i: number) => Promise<unknown>,
    before?: () => Promise<void>,
  ) => {
    const r = { ours: [] as number[], raw: [] as number[], ratio: [] as number[] };
    for (let round = 0; round < ROUNDS; round++) {
      await before?.();
      const a = await rate(seconds / ROUNDS, concurrency, round % 2 ? ours : raw);
      const b = await rate(seconds / ROUNDS, concurrency, round % 2 ? raw : ours);
      const [o, w] = round % 2 ? [a, b] : [b, a];
      r.ours.push(o);
      r.raw.push(w);
      r.ratio.push(o / w);
    }
    return { ours: median(r.ours), raw: median(r.raw), ratio: median(r.ratio) };
  };
  const grant = () => {
    if (used >= assertions.length) throw new Error('assertion pool exhausted; raise the refill');
    return issuer.grant(params(used++), peer);
  };
  const perRun = () => refill(Math.ceil((seconds / ROUNDS) * 20_000));
  await rate(0.5, concurrency, rawIssue); // warm-up
  await perRun();
  await rate(0.5, concurrency, grant);
  const issuance = await compare(grant, rawIssue, perRun);
  const rawSignRate = await rate(seconds, concurrency, rawSign);

  await refill(1);
  const token = (await grant()).access_token;
  const jwks = publicJwks([signingKey]);
  const localSet = createLocalJWKSet(jwks);
  // Resource servers remember verified signatures until expiry, so a repeated token costs no
  // signature check. The headline figure uses a fresh token each time (what a first call costs);
  // the repeat figure is reported separately.
  const rawVerify = () => jwtVerify(token, localSet, { algorithms: ['ES256'] });
  const verifyOpts = { issuer: issuerUrl, jwks, audience: resource, requiredScope: 'nvi:read', peer };
  const ours = () => verifyAccessToken(token, { ...verifyOpts, remember: false });
  await rate(0.5, concurrency, rawVerify);
  const verification = await compare(ours, rawVerify);
  const repeatRate = await rate(seconds, concurrency, () => verifyAccessToken(token, verifyOpts));

  const common = { algorithm: 'ES256', concurrency, store: store.backend };
  figure('tokens', 'issuance_per_s', issuance.ours, { unit: 'tokens/s', ...common });
  figure('tokens', 'raw_jose_verify_and_sign_per_s', issuance.raw, { unit: 'ops/s', ...common });
  figure('tokens', 'issuance_ratio', issuance.ratio, {
    ceiling: 'raw jose: verify assertion + sign token',
    target: 0.5,
    rounds: ROUNDS,
    store: store.backend,
  });
  figure('tokens', 'raw_jose_sign_per_s', rawSignRate, { unit: 'ops/s', ...common });
  figure('tokens', 'issuance_vs_raw_sign_ratio', issuance.ours / rawSignRate, {
    ceiling: 'raw jose sign only (issuance also verifies an assertion)',
  });
  figure('tokens', 'verification_per_s', verification.ours, { unit: 'verifications/s', ...common });
  figure('tokens', 'raw_jose_verify_per_s', verification.raw, { unit: 'ops/s', ...common });
  figure('tokens', 'verification_ratio', verification.ratio, {
    ceiling: 'raw jose jwtVerify, same key set',
    target: 0.8,
    rounds: ROUNDS,
    tokens: 'full verification each time (signature not remembered)',
  });
  figure('tokens', 'repeat_verification_per_s', repeatRate, { unit: 'verifications/s', note: 'same token again: signature remembered until expiry', ...common });
  await store.close();
}
