import { readFileSync } from 'node:fs';
import { createNcpehPart } from './part.ts';
import { ncpehSettingsOf } from './serve-settings.ts';

// `ldn serve ncpeh`: the contact point from its settings (files for the trust list, its key and
// the gateway certificate), the same composition the sandbox uses.
export function configuredNcpehPart(given: Record<string, string | undefined>): ReturnType<typeof createNcpehPart> {
  const settings = ncpehSettingsOf(given);
  const need = (name: string, v: string | undefined) => {
    if (!v) throw new Error(`setting ${name} is required (LDN_SETTING_${name.toUpperCase()})`);
    return v;
  };
  const json = (name: string, v: string | undefined) => {
    try {
      return JSON.parse(readFileSync(need(name, v), 'utf8'));
    } catch (err) {
      throw new Error(`setting ${name}: ${(err as Error).message}`);
    }
  };
  const nodeTenantUrl = need('node_tenant_url', settings.nodeTenantUrl);
  return createNcpehPart({
    trustList: json('trust_list', settings.trustListFile),
    signingKey: json('signing_key', settings.signingKeyFile),
    gateway: {
      cert: readFileSync(need('gateway_cert', settings.gatewayCertFile), 'utf8'),
      key: readFileSync(need('gateway_key', settings.gatewayKeyFile), 'utf8'),
      host: settings.gatewayHost,
      port: settings.gatewayPort,
    },
    nodeTenantUrl: () => nodeTenantUrl,
    deadlineMs: settings.deadlineMs,
  });
}
