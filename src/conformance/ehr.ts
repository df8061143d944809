import type { Bundle, CapabilityStatement, Patient } from '@medplum/fhirtypes';
import { SYSTEM } from '../kit/identifiers/systems.ts';
import { EhrChangeFeed, EhrConnector } from '../node/contract.ts';
import type { Check } from './types.ts';

// What the node's EHR connector needs from the FHIR server behind it: find a patient by BSN,
// search that patient's data by a typed reference, read a resource (and 404/410 for one that
// is gone), and a way to learn what changed (system _history, or _lastUpdated search).

export async function checkEhr(base: string, bsn: string): Promise<Check[]> {
  const checks: Check[] = [];
  const check = (rule: string, ok: boolean, detail: string) => checks.push({ rule, ok, detail });
  const connector = new EhrConnector({ baseUrl: base, deadlineMs: 30_000 });
  const attempt = async <T>(fn: () => Promise<T>): Promise<T | Error> => fn().catch((e: Error) => e);
  try {
    const meta = await attempt(() => connector.getJson(`${base}/metadata`));
    const cs = meta instanceof Error ? undefined : (meta as CapabilityStatement);
    check('ehr.metadata', cs?.resourceType === 'CapabilityStatement', cs?.resourceType === 'CapabilityStatement' ? 'CapabilityStatement served' : `no CapabilityStatement at /metadata (${meta instanceof Error ? meta.message : 'other answer'})`);
    const feed = new EhrChangeFeed(connector, () => ['Patient']);
    const mode = await feed.mode();
    const changes = await attempt(() => feed.poll(undefined, async () => {}, 1));
    check('ehr.changes', !(changes instanceof Error), `changes by ${mode === 'history' ? 'system _history' : '_lastUpdated search'}${changes instanceof Error ? `: ${changes.message}` : ''}`);
    const patients = await attempt(() => connector.search('Patient', new URLSearchParams({ identifier: `${SYSTEM.bsn}|${bsn}` })));
    const patient = patients instanceof Error ? undefined : (patients.find((p) => p.resourceType === 'Patient') as Patient | undefined);
    check('ehr.patient-by-bsn', !!patient, patient ? `Patient/${patient.id}` : `no Patient for the test BSN${patients instanceof Error ? `: ${patients.message}` : ''}`);
    if (!patient?.id) return checks;
    const data = await attempt(() => connector.getJson(`${base}/AllergyIntolerance?patient=${encodeURIComponent(`Patient/${patient.id}`)}`));
    check('ehr.search-by-patient', !(data instanceof Error) && (data as Bundle).resourceType === 'Bundle', `AllergyIntolerance?patient=Patient/<id>${data instanceof Error ? `: ${data.message}` : ''}`);
    const read = await attempt(() => connector.exists('Patient', patient.id as string));
    check('ehr.read', read === true, `Patient/<id> read → ${read instanceof Error ? read.message : read ? 'found' : 'missing'}`);
    const gone = await attempt(() => connector.exists('Patient', 'ldn-conformance-no-such-id'));
    check('ehr.read-gone', gone === false, `unknown id → ${gone instanceof Error ? gone.message : gone ? 'found' : '404/410'}`);
  } finally {
    await connector.close();
  }
  return checks;
}
