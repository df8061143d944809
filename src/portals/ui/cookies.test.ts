import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { cookieHeader, readCookies } from './cookies.ts';

const token = fc.stringMatching(/^[A-Za-z0-9_-]{1,43}$/);
const name = fc.stringMatching(/^[a-z_]{1,12}$/);

test('readCookies never throws and returns only well-formed names and values', () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 300 }), (header) => {
      const jar = readCookies(header);
      for (const [k, v] of Object.entries(jar)) {
        assert.match(k, /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/);
        assert.doesNotMatch(v, /[;,\s"\\]/);
      }
    }),
  );
});

test('a cookie we set reads back unchanged among other cookies', () => {
  fc.assert(
    fc.property(name, token, fc.array(fc.tuple(name, token), { maxLength: 5 }), (n, v, others) => {
      const set = cookieHeader(n, v, { path: '/x' });
      const pair = set.split(';')[0];
      const header = [pair, ...others.map(([a, b]) => `${a}=${b}`)].join('; ');
      assert.equal(readCookies(header)[n], v);
    }),
  );
});

test('Set-Cookie carries HttpOnly, Secure, SameSite=Lax, and refuses header injection', () => {
  assert.equal(cookieHeader('sid', 'abc', { path: '/viewer', maxAgeSeconds: 10 }), 'sid=abc; Path=/viewer; Max-Age=10; HttpOnly; Secure; SameSite=Lax');
  assert.throws(() => cookieHeader('sid', 'a;b', { path: '/' }));
  assert.throws(() => cookieHeader('sid', 'a\r\nSet-Cookie: x=y', { path: '/' }));
  assert.throws(() => cookieHeader('sid', 'a', { path: '/;x' }));
  assert.deepEqual({ ...readCookies('a=1; a=2; b="q"; =x; c') }, { a: '1', b: 'q' });
});
