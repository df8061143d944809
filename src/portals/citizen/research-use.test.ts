import assert from 'node:assert/strict';
import { test } from 'node:test';
import { toTransparencyEvent } from '../../audit/event.ts';
import { citizenAuditEvent, toCitizenEntry } from '../../audit/transparency/citizen-view.ts';
import { researchUseEvent } from '../../node/bulk-export/research-use-event.ts';
import type { PermitClaims } from '../../secondary-use/contract.ts';
import { accessEntryOf } from '../adapters/http.ts';
import { accessRows } from './access-rows.ts';
import { accessPage } from './pages.ts';

// A holder's export of the citizen under a data permit, from the holder's event through the
// transparency log's citizen view and the portal's adapter to the access log page: one row per
// permit, "Gebruikt voor onderzoek", naming the research organisation, the permit and its
// purpose and the holders, and nothing of the research pseudonym or result.

const permit: PermitClaims = {
  iss: 'https://hdab.test',
  jti: 'permit-7f3a',
  sub: '90000960',
  iat: 0,
  nbf: 0,
  exp: 0,
  purpose: 'Secundaire preventie na TIA',
  legal_basis: 'EHDS art. 53',
  categories: ['Patient', 'Condition'],
  cohort: {},
  types: ['Patient', 'Condition'],
  date_precision: 'year',
};
const job = (holder: string) => ({ id: 'j', tenantUra: holder, permitJti: permit.jti, requesterUra: '90000950', permit: 'x.y.z', types: permit.types, requestUrl: '', status: 'running', progress: '', error: null, transactionTime: '', expiresAt: '' }) as const;
const names: Record<string, string> = { '90000960': 'Universiteit Utrecht', '90000201': 'Huisarts Kerkrade', '90000102': 'Ziekenhuis Leiden' };

function throughTheLog(holder: string, leaf: number) {
  const event = toTransparencyEvent(researchUseEvent(job(holder) as never, permit, { localReference: 'Patient/abc', categories: ['Patient', 'Condition'] }, 'node'));
  const entry = toCitizenEntry(event, leaf, { organizationName: (ura) => names[ura] });
  return { ...accessEntryOf(citizenAuditEvent(entry)), inLog: true };
}

test('two holders exporting her under one permit are one "used for research" row naming permit, organisation and purpose', () => {
  const care = { eventId: 'c1', when: '2026-11-01T10:00:00Z', organizationUra: '90000101', exchange: 'acute-zorg', dataCategories: ['Condition'], emergency: false, inLog: true };
  const rows = accessRows([throughTheLog('90000201', 1), throughTheLog('90000102', 2), care]);
  assert.equal(rows.length, 2);
  const research = rows.find((r) => r.kind === 'research');
  assert.ok(research);
  assert.equal(research.research?.permitId, 'permit-7f3a');
  assert.equal(research.research?.purpose, 'Secundaire preventie na TIA');
  assert.equal(research.accessorName, 'Universiteit Utrecht');
  assert.deepEqual(research.holders.map((h) => h.name).sort(), ['Huisarts Kerkrade', 'Ziekenhuis Leiden']);
  assert.deepEqual(research.dataCategories.sort(), ['Condition', 'Patient']);
  assert.equal(rows.find((r) => r.kind !== 'research')?.kind, 'professional', 'care accesses stay their own rows');

  for (const lang of ['nl', 'en'] as const) {
    const page = accessPage({ lang, path: '/access', assetBase: '/assets' }, { entries: [throughTheLog('90000201', 1)], headVerified: true });
    assert.match(page, /data-research-use="permit-7f3a"/);
    assert.match(page, lang === 'nl' ? /Gebruikt voor onderzoek/ : /Used for research/);
    assert.match(page, /Universiteit Utrecht/);
    assert.match(page, /Secundaire preventie na TIA/);
    assert.doesNotMatch(page, /Patient\/abc/);
  }
});
