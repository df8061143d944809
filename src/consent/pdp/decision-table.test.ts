import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { testBsn } from '../../kit/identifiers/bsn.ts';
import { SYSTEM } from '../../kit/identifiers/systems.ts';
import { defaultAgreements } from '../../trust/agreements/default-agreements.ts';
import type { ConsentMode, LegalBasis } from '../../trust/agreements/types.ts';
import type { ConsentRecord, ConsentScope } from '../model.ts';
import { createPdp } from './evaluate.ts';
import { type ConsentOracle, RecordsConsentOracle } from './oracle.ts';
import type { PdpInput } from './types.ts';

// The decision table: roles × organisation types × consent states × network modes × exchanges,
// each row with its expected decision and the reason that must be given.

const BSN = testBsn(1001);
const ORG = { veluwe: '90000101', leiden: '90000102', gp: '90000103', pharmacy: '90000104', homecare: '90000105', physio: '90000106' };
const TYPE_OF: Record<string, string> = { [ORG.veluwe]: 'V4', [ORG.leiden]: 'V4', [ORG.gp]: 'Z3', [ORG.pharmacy]: 'J8', [ORG.homecare]: 'T2', [ORG.physio]: 'K9' };

type State =
  | 'none' | 'permit' | 'objection' | 'permit-hospitals' | 'objection-veluwe+permit' | 'permit-veluwe+objection'
  | 'objection-allergies+permit' | 'withdrawn';

const scope = (s: Partial<ConsentScope> = {}): ConsentScope => ({ holderUras: [], holderTypes: [], requesterUras: [], requesterTypes: [], dataCategories: [], ...s });
const rec = (id: string, provision: 'permit' | 'deny', s: Partial<ConsentScope> = {}, status: 'active' | 'inactive' = 'active'): ConsentRecord => ({ id, version: 1, bsn: BSN, status, provision, ...scope(s) });
const STATES: Record<State, ConsentRecord[]> = {
  none: [],
  permit: [rec('all', 'permit')],
  objection: [rec('optout', 'deny')],
  'permit-hospitals': [rec('hosp', 'permit', { requesterTypes: ['V4'] })],
  'objection-veluwe+permit': [rec('all', 'permit'), rec('notveluwe', 'deny', { requesterUras: [ORG.veluwe] })],
  'permit-veluwe+objection': [rec('optout', 'deny'), rec('veluwe', 'permit', { requesterUras: [ORG.veluwe] })],
  'objection-allergies+permit': [rec('all', 'permit'), rec('noallergy', 'deny', { dataCategories: ['AllergyIntolerance'] })],
  withdrawn: [rec('old', 'permit', {}, 'inactive')],
};

interface Row {
  name: string;
  exchange: string;
  role: string;
  requester: string;
  holder: string;
  state: State;
  mode: ConsentMode;
  /** Path and query; the patient parameter is added unless `noPatient`. */
  query: string;
  allow: boolean;
  why: RegExp;
  basis?: LegalBasis;
  emergency?: string;
  treatment?: boolean;
  method?: string;
  tweak?: (input: PdpInput) => void;
  oracle?: ConsentOracle;
}

const ACUTE = { exchange: 'acute-zorg', role: '01.045', requester: ORG.veluwe, holder: ORG.leiden, query: '/AllergyIntolerance' };
const BGZ = { exchange: 'bgz', role: '01.016', requester: ORG.leiden, holder: ORG.gp, query: '/Condition' };
const MEDS = { exchange: 'medicatieoverdracht', role: '17.060', requester: ORG.veluwe, holder: ORG.pharmacy, query: '/MedicationRequest' };
const EOV = { exchange: 'eoverdracht', role: '30.015', requester: ORG.homecare, holder: ORG.leiden, query: '/Task' };
const IMG = { exchange: 'beeldbeschikbaarheid', role: '01.030', requester: ORG.veluwe, holder: ORG.leiden, query: '/ImagingStudy' };
const IPS = { exchange: 'ips', role: '01.016', requester: ORG.leiden, holder: ORG.gp, query: '/AllergyIntolerance' };

const failing: ConsentOracle = { closedQuestion: async () => { throw new Error('connection refused'); } };

const ROWS: Row[] = [
  // acute-zorg: consent states × modes
  { ...ACUTE, name: 'no choice, opt-in', state: 'none', mode: 'opt-in', allow: false, why: /opt-in network and no consent/ },
  { ...ACUTE, name: 'no choice, opt-out', state: 'none', mode: 'opt-out', allow: true, why: /no objection/, basis: 'opt-out' },
  { ...ACUTE, name: 'consent, opt-in', state: 'permit', mode: 'opt-in', allow: true, why: /consent all/, basis: 'explicit-consent' },
  { ...ACUTE, name: 'consent, opt-out', state: 'permit', mode: 'opt-out', allow: true, why: /consent all/, basis: 'explicit-consent' },
  { ...ACUTE, name: 'objection, opt-in', state: 'objection', mode: 'opt-in', allow: false, why: /objection optout/ },
  { ...ACUTE, name: 'objection, opt-out', state: 'objection', mode: 'opt-out', allow: false, why: /objection optout/ },
  { ...ACUTE, name: 'consent for hospitals', state: 'permit-hospitals', mode: 'opt-in', allow: true, why: /consent hosp/ },
  { ...ACUTE, name: 'objection against this hospital beats general consent', state: 'objection-veluwe+permit', mode: 'opt-in', allow: false, why: /objection notveluwe/ },
  { ...ACUTE, name: 'consent for this hospital beats general objection', state: 'permit-veluwe+objection', mode: 'opt-out', allow: true, why: /consent veluwe/ },
  { ...ACUTE, name: 'category objection beats general consent', state: 'objection-allergies+permit', mode: 'opt-in', allow: false, why: /consent \(AllergyIntolerance\): Deny/ },
  { ...ACUTE, name: 'category objection leaves other categories', state: 'objection-allergies+permit', mode: 'opt-in', query: '/MedicationStatement', allow: true, why: /consent all/ },
  { ...ACUTE, name: 'withdrawn consent counts as none', state: 'withdrawn', mode: 'opt-in', allow: false, why: /no consent recorded/ },
  // emergency access
  { ...ACUTE, name: 'break the glass without consent', state: 'none', mode: 'opt-in', emergency: 'patient unconscious, TIA suspected', allow: true, why: /emergency access: patient unconscious/, basis: 'emergency-access' },
  { ...ACUTE, name: 'break the glass against an objection', state: 'objection', mode: 'opt-out', emergency: 'patient unconscious', allow: false, why: /does not override an objection/ },
  { ...ACUTE, name: 'break the glass without a reason', state: 'none', mode: 'opt-in', emergency: '  ', allow: false, why: /requires a reason/ },
  { ...ACUTE, name: 'break the glass not needed with consent', state: 'permit', mode: 'opt-in', emergency: 'patient unconscious', allow: true, why: /consent all/, basis: 'explicit-consent' },
  // roles and organisation types
  { ...ACUTE, name: 'doctor\'s assistant', role: '88.000', state: 'permit', mode: 'opt-in', allow: false, why: /role 88.000 may not/ },
  { ...ACUTE, name: 'pharmacist at a pharmacy', role: '17.000', requester: ORG.pharmacy, state: 'permit', mode: 'opt-in', allow: false, why: /organisation type J8 may not request/ },
  { ...ACUTE, name: 'GP asks a pharmacy', role: '01.015', requester: ORG.gp, holder: ORG.pharmacy, query: '/MedicationStatement', state: 'permit', mode: 'opt-in', allow: true, why: /consent all/ },
  { ...ACUTE, name: 'physiotherapist', role: '04.000', requester: ORG.physio, state: 'permit', mode: 'opt-out', allow: false, why: /role 04.000.*|organisation type K9/ },
  { ...ACUTE, name: 'holder type holds no acute data', holder: ORG.physio, state: 'permit', mode: 'opt-in', allow: false, why: /K9 does not hold data/ },
  // qualification, scope, purpose
  { ...ACUTE, name: 'no qualification', state: 'permit', mode: 'opt-in', allow: false, why: /no valid qualification/, tweak: (i) => { i.subject.client_qualifications = ['bgz']; } },
  { ...ACUTE, name: 'expired qualification', state: 'permit', mode: 'opt-in', allow: false, why: /no valid qualification/, tweak: (i) => { i.subject.client_qualifications = [{ code: 'acute-zorg', validUntil: '2020-01-01T00:00:00Z' }]; } },
  { ...ACUTE, name: 'token without the exchange scope', state: 'permit', mode: 'opt-in', allow: false, why: /scope lacks acute-zorg/, tweak: (i) => { i.subject.scope = 'nvi:read'; } },
  { ...ACUTE, name: 'research purpose', state: 'permit', mode: 'opt-in', allow: false, why: /purpose HRESCH/, tweak: (i) => { i.context.purpose_of_use = 'HRESCH'; } },
  // the query allow-list
  { ...ACUTE, name: 'resource type not allow-listed', query: '/Procedure', state: 'permit', mode: 'opt-in', allow: false, why: /Procedure is not allow-listed/ },
  { ...ACUTE, name: 'parameter not allow-listed', query: '/AllergyIntolerance?code=123', state: 'permit', mode: 'opt-in', allow: false, why: /code not allow-listed/ },
  { ...ACUTE, name: 'parameter value not allow-listed', query: '/Observation?category=social-history', state: 'permit', mode: 'opt-in', allow: false, why: /category=social-history is not allow-listed/ },
  { ...ACUTE, name: 'wildcard _include', query: '/MedicationStatement?_include=*', state: 'permit', mode: 'opt-in', allow: false, why: /_include=\* is never allow-listed/ },
  { ...ACUTE, name: 'listed _include', query: '/MedicationStatement?_include=MedicationStatement:medication', state: 'permit', mode: 'opt-in', allow: true, why: /consent all/ },
  { ...ACUTE, name: 'search not bound to a patient', state: 'permit', mode: 'opt-in', allow: false, why: /not restricted to one patient/, tweak: (i) => { i.request.query_params = {}; } },
  { ...ACUTE, name: 'search for another patient', state: 'permit', mode: 'opt-in', allow: false, why: /another patient/, tweak: (i) => { i.request.query_params = { 'patient:identifier': `${SYSTEM.bsn}|${testBsn(7)}` }; } },
  { ...ACUTE, name: 'POST _search is a search', query: '/AllergyIntolerance/_search', method: 'POST', state: 'permit', mode: 'opt-in', allow: true, why: /consent all/ },
  { ...ACUTE, name: 'DELETE is never allowed', method: 'DELETE', state: 'permit', mode: 'opt-in', allow: false, why: /not a search/ },
  { ...ACUTE, name: 'Patient by BSN', query: `/Patient?identifier=${SYSTEM.bsn}|${BSN}`, state: 'permit', mode: 'opt-in', allow: true, why: /consent all/, tweak: (i) => { delete i.request.query_params.patient; } },
  // deny on missing input and errors
  { ...ACUTE, name: 'missing patient', state: 'permit', mode: 'opt-in', allow: false, why: /missing input: context.patient_bsn/, tweak: (i) => { i.context.patient_bsn = ''; } },
  { ...ACUTE, name: 'missing role', state: 'permit', mode: 'opt-in', allow: false, why: /missing input: subject.user_role/, tweak: (i) => { delete (i.subject as Partial<PdpInput['subject']>).user_role; } },
  { ...ACUTE, name: 'unknown exchange', state: 'permit', mode: 'opt-in', allow: false, why: /unknown exchange huisbezoek/, tweak: (i) => { i.context.exchange = 'huisbezoek'; } },
  { ...ACUTE, name: 'registry down', state: 'permit', mode: 'opt-out', allow: false, why: /consent registry unavailable/, oracle: failing },
  // bgz
  { ...BGZ, name: 'bgz, no choice, opt-out', state: 'none', mode: 'opt-out', allow: true, why: /no objection/, basis: 'opt-out' },
  { ...BGZ, name: 'bgz, no choice, opt-in', state: 'none', mode: 'opt-in', allow: false, why: /no consent recorded/ },
  { ...BGZ, name: 'bgz has no emergency access', state: 'none', mode: 'opt-in', emergency: 'unconscious patient', allow: false, why: /does not allow emergency access/ },
  { ...BGZ, name: 'bgz, district nurse', role: '30.015', requester: ORG.homecare, state: 'permit', mode: 'opt-in', allow: true, why: /consent all/ },
  { ...BGZ, name: 'bgz, pharmacy requester', role: '17.000', requester: ORG.pharmacy, state: 'permit', mode: 'opt-in', allow: false, why: /organisation type J8 may not/ },
  { ...BGZ, name: 'bgz, hospital consent does not cover a GP requester', role: '01.015', requester: ORG.gp, holder: ORG.leiden, state: 'permit-hospitals', mode: 'opt-in', allow: false, why: /no consent recorded/ },
  // medicatieoverdracht
  { ...MEDS, name: 'meds, hospital pharmacist with consent', state: 'permit', mode: 'opt-in', allow: true, why: /consent all/ },
  { ...MEDS, name: 'meds, objection in opt-out', state: 'objection', mode: 'opt-out', allow: false, why: /objection optout/ },
  { ...MEDS, name: 'meds, no objection in opt-out', state: 'none', mode: 'opt-out', allow: true, why: /no objection/ },
  { ...MEDS, name: 'meds, physiotherapist', role: '04.000', requester: ORG.physio, state: 'permit', mode: 'opt-in', allow: false, why: /role 04.000 may not/ },
  // eoverdracht: treatment relationship
  { ...EOV, name: 'eoverdracht with a treatment relationship', state: 'none', mode: 'opt-in', treatment: true, allow: true, why: /treatment relationship/, basis: 'treatment-relationship' },
  { ...EOV, name: 'eoverdracht without one', state: 'permit', mode: 'opt-in', allow: false, why: /no legal basis of eoverdracht/ },
  { ...EOV, name: 'eoverdracht, emergency not allowed', state: 'none', mode: 'opt-in', emergency: 'urgent handover', allow: false, why: /does not allow emergency access/ },
  // beeldbeschikbaarheid
  { ...IMG, name: 'images, radiologist with consent', state: 'permit', mode: 'opt-in', allow: true, why: /consent all/ },
  { ...IMG, name: 'images, break the glass', state: 'none', mode: 'opt-in', emergency: 'stroke protocol, patient aphasic', allow: true, why: /emergency access/, basis: 'emergency-access' },
  { ...IMG, name: 'images from a GP holder', holder: ORG.gp, state: 'permit', mode: 'opt-in', allow: false, why: /Z3 does not hold data/ },
  // ips: explicit consent only
  { ...IPS, name: 'ips needs an explicit consent even in opt-out', state: 'none', mode: 'opt-out', allow: false, why: /ips requires an explicit consent/ },
  { ...IPS, name: 'ips with consent', state: 'permit', mode: 'opt-out', allow: true, why: /consent all/, basis: 'explicit-consent' },
  { ...IPS, name: 'ips, opt-in without consent', state: 'none', mode: 'opt-in', allow: false, why: /no consent recorded/ },
];

function inputFor(row: Row): PdpInput {
  const [path, qs] = row.query.split('?');
  const query_params: Record<string, string> = Object.fromEntries(new URLSearchParams(qs ?? ''));
  if (!path.startsWith('/Patient')) query_params.patient = 'Patient/local-42';
  const input: PdpInput = {
    subject: {
      scope: `openid ${row.exchange === 'eoverdracht' ? 'eoverdracht-receiver' : row.exchange}`,
      organization_ura: row.requester,
      organization_facility_type: TYPE_OF[row.requester],
      user_id: '900001011',
      user_role: row.role,
      client_qualifications: [row.exchange, 'consent'],
    },
    request: { method: row.method ?? 'GET', path: `/fhir${path}`, query_params },
    context: {
      data_holder_organization_id: row.holder,
      data_holder_facility_type: TYPE_OF[row.holder],
      patient_bsn: BSN,
      purpose_of_use: 'TREAT',
      exchange: row.exchange,
      ...(row.treatment ? { treatment_relationship: true } : {}),
      ...(row.emergency !== undefined ? { emergency: { reason: row.emergency } } : {}),
    },
  };
  row.tweak?.(input);
  return input;
}

describe('PDP decision table', () => {
  it('has at least 40 rows covering every exchange, both modes and every consent state', () => {
    assert.ok(ROWS.length >= 40);
    assert.equal(new Set(ROWS.map((r) => r.exchange)).size, 6);
    assert.equal(new Set(ROWS.map((r) => r.mode)).size, 2);
    assert.equal(new Set(ROWS.map((r) => r.state)).size, Object.keys(STATES).length);
  });

  for (const row of ROWS) {
    it(`${row.exchange}: ${row.name} → ${row.allow ? 'allow' : 'deny'}`, async () => {
      const agreements = defaultAgreements();
      agreements.network.consentMode = row.mode;
      const oracle = row.oracle ?? new RecordsConsentOracle(() => STATES[row.state], () => agreements.network.consentMode);
      const pdp = createPdp({ agreements: () => agreements, consent: oracle });
      const d = await pdp.evaluate(inputFor(row));
      const text = d.reasons.map((r) => `${r.code}: ${r.description}`).join(' | ');
      assert.equal(d.allow, row.allow, text);
      assert.match(text, row.why);
      if (row.basis) assert.equal(d.basis, row.basis);
      assert.equal(d.emergency === true, row.allow && row.basis === 'emergency-access');
      if (d.emergency) assert.equal(d.review, true);
      assert.doesNotMatch(text, new RegExp(BSN));
    });
  }

  it('denies garbage input instead of throwing', async () => {
    const pdp = createPdp({ agreements: defaultAgreements, consent: failing });
    for (const junk of [null, {}, { subject: 1 }, { subject: {}, request: {}, context: {} }]) {
      const d = await pdp.evaluate(junk as unknown as PdpInput);
      assert.equal(d.allow, false);
      assert.ok(d.reasons.length > 0);
    }
  });
});
