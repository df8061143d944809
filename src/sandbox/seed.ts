import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Bundle } from '@medplum/fhirtypes';
import { seedConsentChoices } from '../consent/sandbox-seed.ts';
import { publishCast, withCurrentVersions } from '../directory/publish-cast.ts';
import { PartClient } from '../kit/http/client.ts';
import type { RunningService } from '../kit/http/service.ts';
import type { Store } from '../kit/store/store.ts';
import type { TlsIdentity } from '../kit/part.ts';
import { fetchAgreements } from '../trust/agreements/jws.ts';
import { TrustTokenProvider } from '../trust/auth/token-provider.ts';
import { seedTrust } from '../trust/seed.ts';
import { OPERATOR } from './cast.ts';
import { sandboxChoices } from './consent-choices.ts';
import type { SandboxContext } from './context.ts';

// Seeding the sandbox the way the real network fills up: the trust framework admits the cast and
// issues their certificates through its CSR lifecycle; each organisation (or its vendor, under
// a mandate) publishes its entries through the directory's feed over HTTP; the consent registry
// gets the cast's choices. Trust and consent bootstrap through their own modules on their own
// stores (there is no one to call before the register exists).

export interface SeededIdentities {
  participants: Map<string, TlsIdentity>;
  vendors: Map<string, TlsIdentity>;
  files: Map<string, { cert: string; key: string }>;
}

export async function seedTrustFramework(sb: SandboxContext, trust: RunningService): Promise<SeededIdentities> {
  return seedTrustStore(sb, trust.store);
}

/** The same on the trust part's store before its process runs (`ldn sandbox --processes`). */
export async function seedTrustStore(sb: SandboxContext, store: Store): Promise<SeededIdentities> {
  const seeded = await seedTrust(store, { ca: sb.pki.ca, organizations: sb.cast.organizations, vendors: sb.cast.vendors, operator: OPERATOR });
  const files = new Map<string, { cert: string; key: string }>();
  const write = (name: string, id: TlsIdentity) => {
    const cert = join(sb.pki.dir, `${name}.pem`);
    const key = join(sb.pki.dir, `${name}-key.pem`);
    writeFileSync(cert, id.cert);
    writeFileSync(key, id.key, { mode: 0o600 });
    files.set(name, { cert, key });
  };
  for (const [ura, id] of seeded.participants) write(`org-${ura}`, id);
  for (const [kvk, id] of seeded.vendors) write(`vendor-${kvk}`, id);
  return { participants: seeded.participants, vendors: seeded.vendors, files };
}

/** Every cast organisation publishes its Organization, Endpoint and HealthcareService. */
export async function publishDirectory(sb: SandboxContext, ids: SeededIdentities, nodeUrls: Record<string, string>): Promise<void> {
  const directoryUrl = sb.network.url('directory');
  const trustUrl = sb.network.url('trust');
  const bootstrap = new PartClient({ tls: ids.participants.values().next().value as TlsIdentity });
  try {
    const { document } = await fetchAgreements({ trustUrl, client: bootstrap });
    const publications = publishCast({
      organizations: sb.cast.organizations,
      vendors: sb.cast.vendors,
      nodeUrls,
      agreements: document,
      addressOf: (org, nodeUrl) => `${nodeUrl}/org/${org.ura}/fhir`,
    });
    for (const pub of publications) {
      const identity = pub.publisher.ura ? ids.participants.get(pub.publisher.ura) : ids.vendors.get(pub.publisher.kvk ?? '');
      if (!identity) throw new Error(`no certificate for publisher ${JSON.stringify(pub.publisher)}`);
      // A vendor has no URA: it asks for tokens acting for an organisation it hosts (the trust
      // framework checks that it does); the directory authorises its writes by its mandates.
      const actor = pub.publisher.ura ?? sb.cast.vendors.find((v) => v.kvk === pub.publisher.kvk)?.hosts[0] ?? '';
      const tokens = new TrustTokenProvider({ tls: identity, ura: actor, tokenEndpoint: `${trustUrl}/oauth/token` });
      const client = new PartClient({ tls: identity, tokens });
      try {
        // Re-running against a persistent directory: update what exists, with If-Match.
        const current = await withCurrentVersions(pub, async (type, id) => {
          const r = await client.call(`${directoryUrl}/${type}/${id}`, { scope: 'directory:read' });
          return r.status === 200 ? (/W\/"(\d+)"/.exec(r.headers.etag ?? '')?.[1] ?? null) : null;
        });
        await client.json<Bundle>(`${directoryUrl}/`, { method: 'POST', body: current.bundle, scope: 'directory:write', deadlineMs: 30_000 });
      } finally {
        await client.close();
        await tokens.close?.();
      }
    }
  } finally {
    await bootstrap.close();
  }
}

export async function seedConsents(consent: RunningService): Promise<number> {
  return (await seedConsentChoices(consent.store, sandboxChoices())).length;
}
