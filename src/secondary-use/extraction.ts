import type { Bundle, Endpoint, Organization } from '@medplum/fhirtypes';
import type { PartClient } from '../kit/http/client.ts';
import { CODE_SYSTEM, SYSTEM } from '../kit/identifiers/systems.ts';
import {
  type BulkManifest,
  EXPORT_OPERATION_PATH,
  EXPORT_PARAM_PERMIT,
  EXPORT_PARAM_TYPE,
  EXPORT_SCOPE,
  type ExportKickOffBody,
  PREFER_RESPOND_ASYNC,
} from './contract.ts';
import type { DeliveredFile } from './workspace.ts';

// The HDAB's side of the Bulk Data flow (contract): which holders to ask, and per holder kick-off,
// status polling, download, clean-up. Which holders: every organisation the national directory
// lists as active with an active FHIR REST endpoint whose payload carries at least one of the
// permit's data categories (the holders that publish data of the kinds the permit covers). A
// holder that refuses or fails is reported per holder; it never stops the others.

const DIRECTORY_READ = 'directory:read';
const MAX_FILE_BYTES = 512 * 1024 * 1024;

export interface HolderTarget {
  ura: string;
  name: string;
  fhirBase: string;
}

export interface HolderOutcome {
  ura: string;
  name: string;
  status: 'delivered' | 'refused' | 'failed';
  reason?: string;
  resources?: number;
}

export async function holdersFromDirectory(client: PartClient, directoryUrl: string, categories: readonly string[]): Promise<HolderTarget[]> {
  const targets: HolderTarget[] = [];
  let next: string | undefined = `${directoryUrl}/Organization?_include=Organization:endpoint&_count=200`;
  for (let page = 0; next && page < 1000; page++) {
    const bundle: Bundle = await client.json<Bundle>(next, { scope: DIRECTORY_READ, resource: directoryUrl, deadlineMs: 15_000 });
    const resources = (bundle.entry ?? []).map((e) => e.resource);
    const endpoints = new Map(resources.filter((r): r is Endpoint => r?.resourceType === 'Endpoint').map((e) => [`Endpoint/${e.id}`, e]));
    for (const org of resources.filter((r): r is Organization => r?.resourceType === 'Organization' && r.active !== false)) {
      const ura = org.identifier?.find((i) => i.system === SYSTEM.ura)?.value;
      if (!ura) continue;
      const endpoint = (org.endpoint ?? [])
        .map((ref) => endpoints.get((ref.reference ?? '').replace(/^.*\/(Endpoint\/[^/]+)$/, '$1')))
        .find((e) => e && e.status === 'active' && e.connectionType?.code === 'hl7-fhir-rest' && e.address && carries(e, categories));
      if (endpoint?.address && !targets.some((t) => t.ura === ura)) targets.push({ ura, name: org.name ?? `URA ${ura}`, fhirBase: endpoint.address.replace(/\/$/, '') });
    }
    next = bundle.link?.find((l) => l.relation === 'next')?.url;
  }
  return targets;
}

function carries(e: Endpoint, categories: readonly string[]): boolean {
  return (e.payloadType ?? []).some((p) => p.coding?.some((c) => c.system === CODE_SYSTEM.dataCategories && categories.includes(c.code ?? '')));
}

export interface ExtractOptions {
  permitJws: string;
  types: readonly string[];
  /** Stop polling after this long (the holder's job is then cancelled). */
  deadlineMs?: number;
  pollMs?: number;
  signal?: AbortSignal;
}

/** Runs one holder's export to the end: the NDJSON files it delivered, or why not. */
export async function extractFromHolder(client: PartClient, target: HolderTarget, o: ExtractOptions): Promise<{ outcome: HolderOutcome; files: DeliveredFile[]; transactionTime?: string }> {
  const resource = target.fhirBase.replace(/\/fhir$/, '');
  const call = { scope: EXPORT_SCOPE, resource, deadlineMs: 30_000 };
  const fail = (status: 'refused' | 'failed', reason: string) => ({ outcome: { ura: target.ura, name: target.name, status, reason }, files: [] });
  const body: ExportKickOffBody = {
    resourceType: 'Parameters',
    parameter: [
      { name: EXPORT_PARAM_PERMIT, valueString: o.permitJws },
      { name: EXPORT_PARAM_TYPE, valueString: o.types.join(',') },
    ],
  };
  let statusUrl: string | undefined;
  try {
    const kick = await client.call(`${target.fhirBase}${EXPORT_OPERATION_PATH}`, {
      ...call,
      method: 'POST',
      body,
      headers: { prefer: PREFER_RESPOND_ASYNC, accept: 'application/fhir+json', 'content-type': 'application/fhir+json' },
    });
    if (kick.status !== 202) return fail(kick.status === 401 || kick.status === 403 ? 'refused' : 'failed', `kick-off answered ${kick.status}: ${diagnostics(kick.body, kick.text)}`);
    statusUrl = kick.headers['content-location'];
    if (!statusUrl) return fail('failed', 'kick-off answered 202 without Content-Location');
    const until = Date.now() + (o.deadlineMs ?? 10 * 60_000);
    let manifest: BulkManifest | undefined;
    while (!manifest) {
      if (o.signal?.aborted) throw new Error('extraction stopped');
      if (Date.now() > until) throw new Error('the holder did not finish before the deadline');
      const s = await client.call<BulkManifest>(statusUrl, { ...call, headers: { accept: 'application/json' } });
      if (s.status === 200) manifest = s.body;
      else if (s.status === 202) {
        const after = Number(s.headers['retry-after']);
        await new Promise((r) => setTimeout(r, Math.min(Number.isFinite(after) && after > 0 ? after * 1000 : (o.pollMs ?? 500), 5000)));
      } else return fail(s.status === 401 || s.status === 403 ? 'refused' : 'failed', `status answered ${s.status}: ${diagnostics(s.body, s.text)}`);
    }
    const files: DeliveredFile[] = [];
    for (const out of manifest.output ?? []) {
      if (!o.types.includes(out.type)) continue; // never more than the permit asked for
      const f = await client.call(out.url, { ...call, headers: { accept: 'application/fhir+ndjson' }, maxResponseBytes: MAX_FILE_BYTES });
      if (f.status !== 200) return fail('failed', `file ${out.type} answered ${f.status}`);
      files.push({ holder: target.ura, type: out.type, ndjson: f.text });
    }
    const errors = (manifest.error ?? []).length;
    return {
      outcome: { ura: target.ura, name: target.name, status: 'delivered', resources: (manifest.output ?? []).reduce((n, x) => n + (x.count ?? 0), 0), ...(errors ? { reason: `${errors} error file(s)` } : {}) },
      files,
      transactionTime: manifest.transactionTime,
    };
  } catch (err) {
    return fail('failed', (err as Error).message.slice(0, 300));
  } finally {
    // The holder keeps nothing once we have it (or gave up): DELETE cancels and removes the files.
    if (statusUrl) await client.call(statusUrl, { ...call, method: 'DELETE' }).catch(() => undefined);
  }
}

function diagnostics(body: unknown, text: string): string {
  const issue = (body as { issue?: Array<{ diagnostics?: string }> })?.issue?.[0]?.diagnostics;
  return (issue ?? text).slice(0, 200);
}
