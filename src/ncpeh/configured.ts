import { readFileSync } from 'node:fs';
import { createNcpehPart } from './part.ts';

// `ldn serve ncpeh`: the contact point from its settings (files for the trust list, its key and
// the gateway certificate), the same composition the sandbox uses.
export function configuredNcpehPart(settings: Record<string, string | undefined>): ReturnType<typeof createNcpehPart> {
  const need = (name: string) => {
    const v = settings[name];
    if (!v) throw new Error(`setting ${name} is required (LDN_SETTING_${name.toUpperCase()})`);
    return v;
  };
  const json = (name: string) => {
    try {
      return JSON.parse(readFileSync(need(name), 'utf8'));
    } catch (err) {
      throw new Error(`setting ${name}: ${(err as Error).message}`);
    }
  };
  const nodeTenantUrl = need('node_tenant_url');
  return createNcpehPart({
    trustList: json('trust_list'),
    signingKey: json('signing_key'),
    gateway: {
      cert: readFileSync(need('gateway_cert'), 'utf8'),
      key: readFileSync(need('gateway_key'), 'utf8'),
      host: settings.gateway_host ?? '0.0.0.0',
      port: Number(settings.gateway_port ?? 9443),
    },
    nodeTenantUrl: () => nodeTenantUrl,
    deadlineMs: Number(settings.deadline_ms ?? 30_000),
  });
}
