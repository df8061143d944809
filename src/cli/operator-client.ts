import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { PartClient } from '../kit/http/client.ts';
import type { TlsIdentity } from '../kit/part.ts';

// The connection `ldn admin` and `ldn publish-directory` use: a certificate (the operator's, or a
// publisher's) over mutual TLS to the network's parts. Options win over the environment
// (LDN_TRUST_URL, LDN_TLS_CERT, LDN_TLS_KEY, LDN_TLS_CA: the same files `ldn serve` reads).

export interface ConnectionOptions {
  trust?: string;
  cert?: string;
  key?: string;
  ca?: string;
}

export function withConnectionOptions(cmd: Command, who: string): Command {
  return cmd
    .option('--trust <url>', 'base URL of the trust part (default LDN_TRUST_URL)')
    .option('--cert <file>', `${who} certificate, PEM (default LDN_TLS_CERT)`)
    .option('--key <file>', `${who} private key, PEM (default LDN_TLS_KEY)`)
    .option('--ca <file>', 'network CA certificate, PEM (default LDN_TLS_CA)');
}

export function connection(o: ConnectionOptions, env: Record<string, string | undefined> = process.env): { trustUrl: string; tls: TlsIdentity } {
  const trustUrl = (o.trust ?? env.LDN_TRUST_URL ?? '').replace(/\/+$/, '');
  const files = { cert: o.cert ?? env.LDN_TLS_CERT, key: o.key ?? env.LDN_TLS_KEY, ca: o.ca ?? env.LDN_TLS_CA };
  const missing = [!trustUrl && '--trust (or LDN_TRUST_URL)', !files.cert && '--cert (or LDN_TLS_CERT)', !files.key && '--key (or LDN_TLS_KEY)', !files.ca && '--ca (or LDN_TLS_CA)'].filter(Boolean);
  if (missing.length) throw new Error(`missing ${missing.join(', ')}`);
  if (!/^https:\/\//.test(trustUrl)) throw new Error(`the trust URL must be https://…, got "${trustUrl}"`);
  const read = (f: string) => readFileSync(f, 'utf8');
  return { trustUrl, tls: { cert: read(files.cert as string), key: read(files.key as string), ca: read(files.ca as string) } };
}

/** Runs `fn` with a client that is closed afterwards. */
export async function withClient<T>(tls: TlsIdentity, fn: (client: PartClient) => Promise<T>): Promise<T> {
  const client = new PartClient({ tls, maxRetries: 1, defaultDeadlineMs: 30_000 });
  try {
    return await fn(client);
  } finally {
    await client.close();
  }
}
