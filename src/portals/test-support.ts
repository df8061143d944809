import type { Bundle, Resource } from '@medplum/fhirtypes';
import type { LightMyRequestResponse } from 'fastify';
import { SYSTEM } from '../kit/identifiers/systems.ts';
import { type HolderResult, mergeOverview } from '../node/integration/merge.ts';
import { DE_GROOT, ORGANIZATIONS } from '../sandbox/cast.ts';
import type { LoginProvider, LoginResult, PendingLogin } from './oidc.ts';
import type { ExchangeOption } from './ports.ts';

// Fakes and fixtures shared by the portal tests and the browser tests. The overview Bundle is
// produced by the node's real merge, so the viewer is tested against the shape it will get.

export const HOSTILE = `<script>alert("x")</script>&'"=\``;

/**
 * A provider that "logs in" whoever the test names, checking state like a real RP would. With
 * `callbackUrl` (browser tests) the "provider" sends the browser straight back with a good code.
 */
export function fakeLogin(claims: Record<string, unknown>, subject = 'subject-1', callbackUrl?: () => string): LoginProvider & { authorizeUrl: string } {
  const authorizeUrl = 'https://provider.invalid/authorize';
  return {
    authorizeUrl,
    async begin() {
      const pending: PendingLogin = { state: `st-${Math.random().toString(36).slice(2)}`, nonce: 'n', codeVerifier: 'v' };
      const url = callbackUrl ? `${callbackUrl()}?code=good-code&state=${pending.state}` : `${authorizeUrl}?state=${pending.state}`;
      return { url, pending };
    },
    async complete(url: URL, pending: PendingLogin): Promise<LoginResult> {
      if (url.searchParams.get('state') !== pending.state) throw new Error('state mismatch');
      if (url.searchParams.get('code') !== 'good-code') throw new Error('invalid_grant');
      return { subject, claims: { sub: subject, ...claims } };
    },
  };
}

export const CLINICIAN_CLAIMS = {
  voorletters: 'A.',
  achternaam: 'Bakker',
  dezi_nummer: '900001011',
  rol_code: '01.045',
  rol_naam: 'Spoedeisende hulp arts',
  abonnee_nummer: '90000101',
  abonnee_naam: 'Ziekenhuis Veluwe',
};

export const EXCHANGES: ExchangeOption[] = [
  { code: 'bgz', name: { nl: 'Basisgegevensset zorg', en: 'Patient summary' }, emergencyAccess: false },
  { code: 'acute-zorg', name: { nl: 'Acute zorg', en: 'Acute care' }, emergencyAccess: true },
];

const patientRef = { reference: 'Patient/p1' };

function holder(ura: string, resources: Resource[], status: HolderResult['status'] = 'ok', reason?: string): HolderResult {
  const org = ORGANIZATIONS.find((o) => o.ura === ura)!;
  const patient: Resource = {
    resourceType: 'Patient',
    id: 'p1',
    identifier: [{ system: SYSTEM.bsn, value: DE_GROOT.bsn }],
    name: [{ given: [DE_GROOT.given], family: `${DE_GROOT.prefix} ${DE_GROOT.family}` }],
    birthDate: DE_GROOT.birthDate,
  };
  return { ura, name: org.name, endpoint: `https://${org.node}.test/fhir`, status, reason, resources: status === 'ok' ? [patient, ...resources] : [], elapsedMs: 5 };
}

const atc = (code: string, display: string) => ({ coding: [{ system: 'http://www.whocc.no/atc', code, display }] });
const sct = (code: string, display: string) => ({ coding: [{ system: 'http://snomed.info/sct', code, display }] });

/** De Groot's acute overview: allergy, two sources for one drug, a problem, a result, one refusal. */
export function deGrootOverview(options: { hostile?: boolean; refused?: boolean } = {}): Bundle {
  const label = options.hostile ? HOSTILE : 'Penicilline-allergie';
  const allergy: Resource = {
    resourceType: 'AllergyIntolerance',
    id: 'a1',
    patient: patientRef,
    criticality: 'high',
    code: { ...sct('91936005', 'Allergie voor penicilline'), text: label },
    recordedDate: '2019-05-02',
    reaction: [{ manifestation: [sct('271807003', 'Huiduitslag')] }],
  };
  const med = (id: string, date: string): Resource => ({
    resourceType: 'MedicationStatement',
    id,
    status: 'active',
    subject: patientRef,
    medicationCodeableConcept: atc('B01AC06', 'Acetylsalicylzuur 80 mg'),
    dateAsserted: date,
    dosage: [{ text: '1x per dag 1 tablet' }],
  });
  const problem: Resource = {
    resourceType: 'Condition',
    id: 'c1',
    subject: patientRef,
    clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }], text: 'actief' },
    code: sct('22298006', 'Hartinfarct'),
    onsetDateTime: '2021-11-20',
  };
  const result: Resource = {
    resourceType: 'Observation',
    id: 'o1',
    status: 'final',
    subject: patientRef,
    code: { coding: [{ system: 'http://loinc.org', code: '2160-0', display: 'Kreatinine' }] },
    effectiveDateTime: '2024-01-15T09:30:00+01:00',
    valueQuantity: { value: 88, unit: 'umol/L' },
  };
  const holders = [
    holder('90000103', [allergy, med('m1', '2024-02-01'), problem]),
    holder('90000104', [med('m2', '2024-03-01')]),
    holder('90000101', [result]),
  ];
  if (options.refused !== false) holders.push(holder('90000105', [], 'refused', options.hostile ? HOSTILE : 'geen toestemming'));
  return mergeOverview({ bsn: DE_GROOT.bsn, holders }).bundle;
}

/** A tiny cookie jar for app.inject() flows. */
export class CookieJar {
  private readonly jar = new Map<string, string>();
  take(res: LightMyRequestResponse): void {
    const set = res.headers['set-cookie'];
    for (const line of Array.isArray(set) ? set : set ? [set] : []) {
      const [pair, ...attrs] = String(line).split(';');
      const [name, value] = [pair.slice(0, pair.indexOf('=')).trim(), pair.slice(pair.indexOf('=') + 1).trim()];
      if (attrs.some((a) => /max-age=0/i.test(a)) || value === '') this.jar.delete(name);
      else this.jar.set(name, value);
    }
  }
  header(): string {
    return [...this.jar].map(([k, v]) => `${k}=${v}`).join('; ');
  }
}

export function csrfOf(body: string): string {
  const m = /name="csrf" value="([^"]+)"/.exec(body);
  if (!m) throw new Error('no csrf token in page');
  return m[1];
}

/** An inject request posting a form with the jar's cookies. */
export const formRequest = (jar: CookieJar, payload: Record<string, string>) => ({
  method: 'POST' as const,
  headers: { cookie: jar.header(), 'content-type': 'application/x-www-form-urlencoded' },
  payload: new URLSearchParams(payload).toString(),
});

/** A GET with the jar's cookies. */
export const getWith = (app: { inject(o: { url: string; headers: Record<string, string> }): Promise<import('light-my-request').Response> }, jar: CookieJar, url: string) =>
  app.inject({ url, headers: { cookie: jar.header() } });
