import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Bundle } from '@medplum/fhirtypes';
import fc from 'fast-check';
import { UpstreamError } from '../../kit/http/client.ts';
import { CODE_SYSTEM } from '../../kit/identifiers/systems.ts';
import { askHolder, type AskHolderInput, readBatchAnswer } from './ask-holder.ts';

// The shared step of the integration pipeline: one holder, one batch, one deadline. Every way a
// holder can fail to answer must end as a HolderResult that says so per category, never as none.

const batch = {
  bundle: { resourceType: 'Bundle', type: 'batch', entry: [{ request: { method: 'GET', url: 'Patient?identifier=x' } }, { request: { method: 'GET', url: 'AllergyIntolerance?patient:identifier=x' } }] },
  categories: [['Patient'], ['AllergyIntolerance']],
} as AskHolderInput['batch'];

const searchset = (n: number): Bundle => ({ resourceType: 'Bundle', type: 'searchset', entry: Array.from({ length: n }, (_, i) => ({ resource: { resourceType: 'Patient', id: `p${i}` } })) });
const objection = { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'suppressed', details: { coding: [{ system: CODE_SYSTEM.withheldReason, code: 'patient-objection' }] }, diagnostics: 'objection' }] };

function input(over: Partial<AskHolderInput>): AskHolderInput {
  return {
    holder: { ura: '90000102' },
    batch,
    deadlineAt: Date.now() + 1000,
    deadlineMs: 1000,
    address: async () => ({ name: 'Ziekenhuis Leiden', address: 'https://leiden/fhir' }),
    noAddressReason: 'no endpoint',
    send: async () => ({ status: 200, body: { resourceType: 'Bundle', type: 'batch-response', entry: [{ response: { status: '200 OK' }, resource: searchset(1) }, { response: { status: '200 OK' }, resource: searchset(0) }] } }),
    ...over,
  };
}

describe('asking one holder', () => {
  it('keeps what a holder answered, with its name and address', async () => {
    const r = await askHolder(input({}));
    assert.equal(r.status, 'ok');
    assert.equal(r.name, 'Ziekenhuis Leiden');
    assert.equal(r.endpoint, 'https://leiden/fhir');
    assert.equal(r.resources.length, 1);
    assert.deepEqual(r.withheld, []);
  });

  it('a holder without an address fails, every category said', async () => {
    const r = await askHolder(input({ address: async () => ({ name: 'Leiden' }) }));
    assert.equal(r.status, 'failed');
    assert.equal(r.reason, 'no endpoint');
    assert.deepEqual(r.withheld?.map((w) => [w.category, w.reason]), [['Patient', 'failed'], ['AllergyIntolerance', 'failed']]);
  });

  it('an addressing lookup past the deadline is a timeout, not a failure', async () => {
    const r = await askHolder(input({ deadlineAt: Date.now() + 20, address: () => new Promise((res) => setTimeout(() => res(null), 200)) }));
    assert.equal(r.status, 'timeout');
    assert.ok(r.withheld?.every((w) => w.reason === 'timeout'));
  });

  it('a call that times out is a timeout; a refused token a refusal; anything else a failure', async () => {
    assert.equal((await askHolder(input({ send: async () => Promise.reject(new UpstreamError('https://leiden/fhir', 504, undefined, 'late')) }))).status, 'timeout');
    assert.equal((await askHolder(input({ send: async () => Promise.reject(new Error('token')), refusalOf: () => 'token refused' }))).status, 'refused');
    assert.equal((await askHolder(input({ send: async () => Promise.reject(new Error('reset')) }))).status, 'failed');
    assert.equal((await askHolder(input({ send: async () => ({ status: 403, body: objection }) }))).status, 'refused');
    assert.equal((await askHolder(input({ send: async () => ({ status: 200, body: { resourceType: 'OperationOutcome' } }) }))).status, 'failed');
  });

  it('a holder that released nothing only on the patient\'s choice is withheld (never named), per category', async () => {
    const r = await askHolder(
      input({ send: async () => ({ status: 200, body: { resourceType: 'Bundle', type: 'batch-response', entry: [{ response: { status: '403' }, resource: objection }, { response: { status: '403' }, resource: objection }] } }) }),
    );
    assert.equal(r.status, 'withheld');
    assert.deepEqual(r.withheld?.map((w) => w.reason), ['patient-objection', 'patient-objection']);
  });

  it('reads any batch answer without throwing, one verdict per category asked (property)', () => {
    const entry = fc.oneof(
      fc.constant(undefined),
      fc.record({ response: fc.record({ status: fc.constantFrom('200 OK', '403', '404', '500', '') }), resource: fc.oneof(fc.constant(searchset(2)), fc.constant(objection), fc.constant(undefined)) }),
    );
    fc.assert(
      fc.property(fc.array(entry, { maxLength: 4 }), (entries) => {
        const read = readBatchAnswer({ resourceType: 'Bundle', type: 'batch-response', entry: entries as Bundle['entry'] }, batch.categories);
        // Every category asked is either answered (200) or said withheld.
        const answered = batch.categories.filter((_, i) => (entries[i]?.response.status ?? '').startsWith('200')).flat();
        assert.equal(read.withheld.length + answered.length, 2);
      }),
    );
  });
});
