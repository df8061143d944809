import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { PartClient } from '../../src/kit/http/client.ts';
import { manifestClinicianVerklaring } from '../../src/sandbox/clinician-login.ts';
import type { Manifest } from '../../src/sandbox/manifest.ts';
import { TrustTokenProvider } from '../../src/trust/auth/token-provider.ts';

// `ldn sandbox` as a person runs it: it prints the summary, writes a manifest a script can use,
// serves over mutual TLS, and stops cleanly on SIGTERM with its ports freed.

function portOpen(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const s = connect(Number(port), hostname);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

describe('ldn sandbox (the command)', { timeout: 180_000 }, () => {
  it('starts, writes the manifest, answers over mTLS, and stops cleanly on SIGTERM', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ldn-cli-'));
    const manifestPath = join(dir, 'sandbox.json');
    const child = spawn(process.execPath, ['bin/ldn.js', 'sandbox', '--port-base', '0', '--manifest', manifestPath], {
      env: { ...process.env, LDN_LOG_LEVEL: 'error' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.stderr.on('data', (d) => {
      out += d;
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      const started = Date.now();
      while (!/LDN sandbox ready/.test(out) && Date.now() - started < 150_000) {
        if (child.exitCode !== null) assert.fail(`sandbox exited early:\n${out}`);
        await new Promise((r) => setTimeout(r, 250));
      }
      assert.match(out, /LDN sandbox ready/);
      assert.match(out, /Portal/);
      const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as Manifest;
      assert.ok(manifest.services.trust.url && manifest.portal?.url && manifest.participants.length === 7);
      const p = manifest.participants[0];
      const client = new PartClient({
        tls: { cert: readFileSync(p.cert, 'utf8'), key: readFileSync(p.key, 'utf8'), ca: readFileSync(manifest.ca.cert, 'utf8') },
        maxRetries: 0,
      });
      const r = await client.call(`${manifest.services.trust.url}/participants/${p.ura}`);
      // Each node publishes the public key of its audit-log checkpoints (for ldn audit verify).
      const nodeOrigin = new URL(p.nodeUrl ?? assert.fail("the participant has a node")).origin;
      const keys = await client.call<{ keys?: Array<{ kty?: string; d?: string }> }>(`${nodeOrigin}/.well-known/audit-checkpoint-jwks.json`);
      await client.close();
      assert.equal(r.status, 200);
      assert.equal(keys.status, 200);
      assert.equal(keys.body.keys?.length, 1);
      assert.equal(keys.body.keys?.[0].d, undefined, 'no private part');

      // The handover stories start with a handover waiting: Thuiszorg Limburg's nurse finds
      // Veluwe's in her list (README, "Try the handover stories").
      assert.match(out, /handover eoverdracht: Ziekenhuis Veluwe → Thuiszorg Limburg/);
      assert.match(out, /handover medicatieoverdracht: Huisartsenpraktijk Kerkrade → Apotheek Kerkrade/);
      const home = manifest.participants.find((x) => x.ura === '90000105')!;
      const homeTls = { cert: readFileSync(home.cert, 'utf8'), key: readFileSync(home.key, 'utf8'), ca: readFileSync(manifest.ca.cert, 'utf8') };
      const verklaring = await manifestClinicianVerklaring(manifest, '900001051');
      const tokens = new TrustTokenProvider({ tls: homeTls, ura: home.ura, tokenEndpoint: `${new URL(home.nodeUrl!).origin}/oauth/token` });
      const nurse = new PartClient({ tls: homeTls, tokens, maxRetries: 0, defaultDeadlineMs: 60_000 });
      try {
        const inbox = await nurse.call<{ entry?: unknown[] }>(`${home.nodeUrl}/workflow/inbox`, {
          scope: 'eoverdracht',
          resource: home.nodeUrl,
          userAssertion: verklaring,
          headers: { 'dezi-verklaring': verklaring },
        });
        assert.equal(inbox.status, 200, JSON.stringify(inbox.body));
        assert.equal(inbox.body.entry?.length, 1, JSON.stringify(inbox.body));
      } finally {
        await nurse.close();
        await tokens.close?.();
      }

      child.kill('SIGTERM');
      assert.equal(await exited, 0);
      for (const s of Object.values(manifest.services)) assert.equal(await portOpen(s.url), false, `${s.url} still open`);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
