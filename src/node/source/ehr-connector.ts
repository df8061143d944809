import type { Bundle, Patient, Resource } from '@medplum/fhirtypes';
import { Agent, request } from 'undici';
import { SYSTEM } from '../../kit/identifiers/systems.ts';
import { readBounded } from '../../kit/http/bounded-body.ts';
import { EhrError } from '../errors.ts';

// The node's connection to an organisation's EHR: any FHIR R4 server, configured by base URL
// (and, outside the sandbox, a bearer credential). The node reads through it: find the patient
// by BSN, run an allow-listed search (ehr-changes.ts follows its changes through _history). It writes
// only with `create` (and `remove` of its own Subscription): a professional's own record of what she did through the node (a pharmacy's
// dispense) and what a citizen shares from her own app (marked patient-reported).

export interface EhrConnectorOptions {
  baseUrl: string;
  /** Static bearer credential for the EHR API, if it needs one. */
  bearer?: string;
  deadlineMs?: number;
  maxResponseBytes?: number;
  maxPages?: number;
}

export { EhrError };

export class EhrConnector {
  private readonly agent = new Agent({ connections: 16, keepAliveTimeout: 30_000 });

  constructor(private readonly options: EhrConnectorOptions) {}

  get baseUrl(): string {
    return this.options.baseUrl;
  }

  private headers(): Record<string, string> {
    return { accept: 'application/fhir+json', ...(this.options.bearer ? { authorization: `Bearer ${this.options.bearer}` } : {}) };
  }

  private async get(url: string, signal?: AbortSignal): Promise<Bundle> {
    const body = await this.getJson(url, signal);
    if ((body as Bundle)?.resourceType !== 'Bundle') throw new EhrError('EHR answered something other than a Bundle');
    return body as Bundle;
  }

  /** One call to the EHR within the deadline (and the caller's signal); an unreachable EHR is an EhrError. */
  private send(url: string, init: { method?: 'GET' | 'POST' | 'DELETE'; body?: string; signal?: AbortSignal } = {}) {
    const timeout = AbortSignal.timeout(this.options.deadlineMs ?? 5000);
    return request(url, {
      method: init.method ?? 'GET',
      dispatcher: this.agent,
      headers: init.body === undefined ? this.headers() : { ...this.headers(), 'content-type': 'application/fhir+json' },
      body: init.body,
      signal: init.signal ? AbortSignal.any([timeout, init.signal]) : timeout,
    }).catch((err: Error) => {
      throw new EhrError(`EHR unreachable: ${err.message}`);
    });
  }

  /** `signal`: the caller gave up (the requester went away); the EHR call is abandoned too. */
  async getJson(url: string, signal?: AbortSignal): Promise<unknown> {
    const res = await this.send(url, { signal });
    // Count bytes while reading: an oversized answer is dropped before it is held in memory.
    const limit = this.options.maxResponseBytes ?? 10 * 1024 * 1024;
    const bytes = await readBounded(res.body, limit).catch((err: Error) => {
      throw new EhrError(`EHR answer broke off: ${err.message}`);
    });
    if (!bytes) throw new EhrError('EHR response too large');
    const text = bytes.toString('utf8');
    if (res.statusCode !== 200) throw new EhrError(`EHR answered ${res.statusCode}`);
    try {
      return JSON.parse(text);
    } catch {
      throw new EhrError('EHR answered malformed JSON');
    }
  }

  async read<T extends Resource>(type: string, id: string): Promise<T> {
    const r = (await this.getJson(`${this.options.baseUrl}/${type}/${encodeURIComponent(id)}`)) as T;
    if (r?.resourceType !== type) throw new EhrError(`EHR answered something other than ${type}`);
    return r;
  }

  /** Whether the EHR still has this resource: 200 yes, 404 or 410 no, anything else an EhrError. */
  async exists(type: string, id: string): Promise<boolean> {
    const res = await this.send(`${this.options.baseUrl}/${type}/${encodeURIComponent(id)}`);
    await res.body.dump();
    if (res.statusCode === 200) return true;
    if (res.statusCode === 404 || res.statusCode === 410) return false;
    throw new EhrError(`EHR answered ${res.statusCode} on a read`);
  }

  /** Creates a resource in the EHR (POST [base]/[type]); returns it as stored. */
  async create<T extends Resource>(resource: T): Promise<T> {
    const res = await this.send(`${this.options.baseUrl}/${resource.resourceType}`, { method: 'POST', body: JSON.stringify(resource) });
    const text = await res.body.text();
    if (res.statusCode !== 201 && res.statusCode !== 200) throw new EhrError(`EHR answered ${res.statusCode} to a create`);
    let stored: T;
    try {
      stored = JSON.parse(text) as T;
    } catch {
      throw new EhrError('EHR answered a create with malformed JSON');
    }
    if (stored?.resourceType !== resource.resourceType || !stored.id) throw new EhrError('EHR answered a create with something else');
    return stored;
  }

  /** Deletes what the node itself made in the EHR (its own Subscription); a missing one is fine. */
  async remove(type: string, id: string): Promise<void> {
    const res = await this.send(`${this.options.baseUrl}/${type}/${encodeURIComponent(id)}`, { method: 'DELETE' });
    await res.body.dump();
    if (res.statusCode >= 300 && res.statusCode !== 404 && res.statusCode !== 410) throw new EhrError(`EHR answered ${res.statusCode} to a delete`);
  }

  /** Follows `next` links up to maxPages; returns every matched resource. */
  async search(path: string, params: URLSearchParams, signal?: AbortSignal): Promise<Resource[]> {
    const out: Resource[] = [];
    let url: string | undefined = `${this.options.baseUrl}/${path}?${params.toString()}`;
    for (let page = 0; url && page < (this.options.maxPages ?? 20); page++) {
      const bundle: Bundle = await this.get(url, signal);
      for (const e of bundle.entry ?? []) if (e.resource && e.search?.mode !== 'outcome') out.push(e.resource);
      url = bundle.link?.find((l) => l.relation === 'next')?.url;
    }
    return out;
  }

  // A batch asks for the same patient in every search at once: those share one lookup while it
  // is in flight, and nothing is kept after it settles (a cached answer would outlive a change
  // or a mistake in the EHR; the BSN is the EHR's own key, never stored here).
  private readonly lookups = new Map<string, Promise<Patient[]>>();

  patientsByBsn(bsn: string): Promise<Patient[]> {
    const inFlight = this.lookups.get(bsn);
    if (inFlight) return inFlight;
    const patients = this.lookupPatients(bsn);
    this.lookups.set(bsn, patients);
    const forget = () => this.lookups.delete(bsn);
    patients.then(forget, forget);
    return patients;
  }

  private async lookupPatients(bsn: string): Promise<Patient[]> {
    const found = await this.search('Patient', new URLSearchParams({ identifier: `${SYSTEM.bsn}|${bsn}` }));
    // One search per patient record: an EHR that lists a record twice must not double the work.
    const byId = new Map<string, Patient>();
    for (const r of found) if (r.resourceType === 'Patient' && r.id && !byId.has(r.id)) byId.set(r.id, r as Patient);
    return [...byId.values()];
  }

  async close(): Promise<void> {
    await this.agent.close();
  }
}
