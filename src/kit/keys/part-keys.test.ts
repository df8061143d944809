import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { backends } from '../testing/backends.ts';
import { ephemeralKek, KeyConfigurationError, kekFile, kekFromSettings, parseKek } from './key-encryption-key.ts';
import { KeyRefusal, partKeys } from './part-keys.ts';

const makeCounter = () => {
  let n = 0;
  return { make: () => `secret-${++n}`, get count() {
    return n;
  } };
};

for (const backend of await backends()) {
  describe(`part keys on ${backend.name}`, () => {
    it('creates a key once, keeps it sealed, and a second instance over the same store reads the same key', async () => {
      const store = await backend.open('kit_keys');
      try {
        const kek = ephemeralKek();
        const counter = makeCounter();
        const first = await partKeys(store, { kek }).secret('seed', { make: counter.make });
        const second = await partKeys(store, { kek }).secret('seed', { make: counter.make });
        assert.equal(first, 'secret-1');
        assert.equal(second, first);
        assert.equal(counter.count, 1);
        const [row] = await store.query<{ sealed: string; kek_id: string }>('SELECT sealed, kek_id FROM ldn_part_keys WHERE name = $1', ['seed']);
        assert.ok(!row.sealed.includes('secret-1'), 'the key is not stored in clear');
        assert.ok(!Buffer.from(row.sealed.split('.')[1], 'base64url').toString('utf8').includes('secret'));
        assert.equal(row.kek_id, kek.id);
      } finally {
        await store.close();
      }
    });

    it('two instances starting at once end with one key', async () => {
      const store = await backend.open('kit_keys');
      try {
        const kek = ephemeralKek();
        const values = await Promise.all([1, 2, 3, 4].map((i) => partKeys(store, { kek }).secret('seed', { make: () => `from-${i}` })));
        assert.equal(new Set(values).size, 1);
      } finally {
        await store.close();
      }
    });

    it('refuses to open keys under another key-encryption key, and refuses without one', async () => {
      const store = await backend.open('kit_keys');
      try {
        await partKeys(store, { kek: ephemeralKek() }).secret('seed', { make: () => 'original' });
        await assert.rejects(partKeys(store, { kek: ephemeralKek() }).secret('seed', { make: () => 'new' }), KeyRefusal);
        await assert.rejects(partKeys(store, {}).secret('seed', { make: () => 'new' }), KeyConfigurationError);
        await assert.rejects(partKeys(store, {}).secret('other', { make: () => 'new' }), KeyConfigurationError);
      } finally {
        await store.close();
      }
    });

    it('refuses a key whose sealed value was altered or moved to another name', async () => {
      const store = await backend.open('kit_keys');
      try {
        const kek = ephemeralKek();
        const keys = partKeys(store, { kek });
        await keys.secret('a', { make: () => 'value-a' });
        await keys.secret('b', { make: () => 'value-b' });
        await store.query("UPDATE ldn_part_keys SET sealed = (SELECT sealed FROM ldn_part_keys WHERE name = 'a') WHERE name = 'b'");
        await assert.rejects(keys.secret('b', { make: () => 'x' }), /does not open/);
      } finally {
        await store.close();
      }
    });

    it('refuses to create a key over data made under a lost one', async () => {
      const store = await backend.open('kit_keys');
      try {
        const keys = partKeys(store, { kek: ephemeralKek() });
        await assert.rejects(keys.secret('index-key', { make: () => 'fresh', hasData: async () => true }), /refusing to create a new one/);
        assert.equal((await store.query('SELECT 1 FROM ldn_part_keys')).length, 0);
      } finally {
        await store.close();
      }
    });

    it('a supplied key is used, and refused when it differs from the kept one', async () => {
      const store = await backend.open('kit_keys');
      try {
        const keys = partKeys(store, { kek: ephemeralKek() });
        assert.equal(await keys.secret('seed', { supplied: { value: 'operator', from: 'SEED' }, make: () => 'x' }), 'operator');
        await keys.secret('seed2', { make: () => 'kept' });
        assert.equal(await keys.secret('seed2', { supplied: { value: 'kept', from: 'SEED2' }, make: () => 'x' }), 'kept');
        await assert.rejects(keys.secret('seed2', { supplied: { value: 'other', from: 'SEED2' }, make: () => 'x' }), /SEED2 differs/);
      } finally {
        await store.close();
      }
    });

    it('imports a key an earlier version kept in a file, once', async () => {
      const store = await backend.open('kit_keys');
      try {
        const file = join(mkdtempSync(join(tmpdir(), 'ldn-keys-')), 'seed');
        writeFileSync(file, 'from-file');
        const keys = partKeys(store, { kek: ephemeralKek() });
        assert.equal(await keys.secret('seed', { legacyFile: file, hasData: async () => true, make: () => 'x' }), 'from-file');
        writeFileSync(file, 'changed');
        assert.equal(await keys.secret('seed', { legacyFile: file, make: () => 'x' }), 'from-file');
      } finally {
        await store.close();
      }
    });

    it('rotating the key-encryption key re-seals every key under the new one', async () => {
      const store = await backend.open('kit_keys');
      try {
        const old = ephemeralKek();
        const fresh = ephemeralKek();
        await partKeys(store, { kek: old }).secret('seed', { make: () => 'kept' });
        assert.equal(await partKeys(store, { kek: fresh, previousKek: old }).secret('seed', { make: () => 'x' }), 'kept');
        assert.equal(await partKeys(store, { kek: fresh }).secret('seed', { make: () => 'x' }), 'kept');
        await assert.rejects(partKeys(store, { kek: old }).secret('seed', { make: () => 'x' }), KeyRefusal);
      } finally {
        await store.close();
      }
    });
  });
}

describe('key-encryption key', () => {
  it('parses 32 bytes as hex or base64url and refuses anything else', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), (bytes) => {
        const b = Buffer.from(bytes);
        assert.equal(parseKek(b.toString('hex'), 't').id, parseKek(b.toString('base64url'), 't').id);
      }),
    );
    fc.assert(
      fc.property(fc.string({ maxLength: 80 }), (text) => {
        try {
          assert.equal(parseKek(text, 't').key.length, 32);
        } catch (err) {
          assert.ok(err instanceof KeyConfigurationError);
        }
      }),
    );
    assert.throws(() => parseKek('00'.repeat(31), 't'), KeyConfigurationError);
  });

  it('comes from a setting or a file; a missing file is a configuration error', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ldn-kek-'));
    const hex = 'ab'.repeat(32);
    writeFileSync(join(dir, 'kek'), `${hex}\n`);
    assert.equal(kekFromSettings({ key_encryption_key: hex }).current?.id, parseKek(hex, 't').id);
    assert.equal(kekFromSettings({ key_encryption_key_file: join(dir, 'kek') }).current?.id, parseKek(hex, 't').id);
    assert.equal(kekFromSettings({}).current, undefined);
    assert.throws(() => kekFromSettings({ key_encryption_key_file: join(dir, 'absent') }), /file not found/);
  });

  it('the sandbox KEK file is created once with mode 0600 and read back', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'ldn-kek-')), 'sub', 'kek');
    const a = kekFile(path);
    assert.equal(kekFile(path).id, a.id);
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.equal(readFileSync(path, 'utf8').length, 64);
  });
});
