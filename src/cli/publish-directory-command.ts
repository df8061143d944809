import { readFileSync } from 'node:fs';
import type { Bundle } from '@medplum/fhirtypes';
import { output } from './output.ts';
import { Command } from 'commander';
import { withCurrentVersions } from '../directory/publish-cast.ts';
import { PartClient } from '../kit/http/client.ts';
import { readCertificateIdentity } from '../kit/pki/certificates.ts';
import { TrustTokenProvider } from '../trust/auth/token-provider.ts';
import { type ConnectionOptions, connection, withConnectionOptions } from './operator-client.ts';

// `ldn publish-directory`: a care provider (or its vendor) publishes its directory entries from a
// file: a FHIR transaction Bundle of PUT entries (Organization, Endpoint, HealthcareService,
// OrganizationAffiliation). It asks the trust part for a directory:write token and posts the
// Bundle; entries that already exist are sent with If-Match, so publishing again updates them.

export function publishDirectoryCommand(): Command {
  return withConnectionOptions(
    new Command('publish-directory').description('publish directory entries (a FHIR transaction Bundle of PUTs) with the publisher\'s certificate'),
    'the publisher\'s',
  )
    .requiredOption('--file <file>', 'the Bundle (JSON, type transaction)')
    .requiredOption('--directory <url>', 'base URL of the directory part')
    .option('--act-for <ura>', 'URA to act for (a vendor acts for a provider it hosts; default the URA in the certificate)')
    .action(async (o: ConnectionOptions & { file: string; directory: string; actFor?: string }) => {
      const { trustUrl, tls } = connection(o);
      let bundle: Bundle;
      try {
        bundle = JSON.parse(readFileSync(o.file, 'utf8')) as Bundle;
      } catch (err) {
        throw new Error(`${o.file}: not JSON (${(err as Error).message})`);
      }
      if (bundle?.resourceType !== 'Bundle' || bundle.type !== 'transaction' || !Array.isArray(bundle.entry))
        throw new Error(`${o.file}: must be a FHIR Bundle of type transaction with entries`);
      const bad = bundle.entry.findIndex((e) => e.request?.method !== 'PUT' || !/^[A-Za-z]+\/[A-Za-z0-9.-]{1,64}$/.test(e.request?.url ?? ''));
      if (bad >= 0) throw new Error(`${o.file}: entry ${bad} is not a PUT to <Type>/<id> (publishing is idempotent only with PUTs)`);
      const ura = o.actFor ?? readCertificateIdentity(tls.cert).ura;
      if (!ura) throw new Error('the certificate carries no URA (a vendor\'s): give --act-for <URA of a provider it hosts>');
      const directory = o.directory.replace(/\/+$/, '');
      const tokens = new TrustTokenProvider({ tls, ura, tokenEndpoint: `${trustUrl}/oauth/token` });
      const client = new PartClient({ tls, tokens, maxRetries: 1, defaultDeadlineMs: 30_000 });
      try {
        const current = await withCurrentVersions({ publisher: { ura }, bundle }, async (type, id) => {
          const r = await client.call(`${directory}/${type}/${id}`, { scope: 'directory:read' });
          return r.status === 200 ? (/W\/"(\d+)"/.exec(r.headers.etag ?? '')?.[1] ?? null) : null;
        });
        const answer = await client.json<Bundle>(`${directory}/`, { method: 'POST', body: current.bundle, scope: 'directory:write' });
        for (const e of answer.entry ?? []) output.write(`${e.response?.status ?? '?'} ${e.response?.location ?? ''}\n`);
      } finally {
        await client.close();
        await tokens.close?.();
      }
    });
}
