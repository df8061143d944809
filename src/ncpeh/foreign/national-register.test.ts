import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BELGIAN_PATIENTS } from './belgian-patients.ts';
import { identify, IdentificationError, isValidInsz, parseForeignDemographics } from './national-register.ts';

// Belgium's identification of its own citizen for a request from abroad: the national register
// number's check digits, then a person who agrees on every demographic, or nobody.

const LAMBERT = { id: '68041200227', family: 'Lambert', given: 'Camille', birthDate: '1968-04-12' };

describe('Belgian identification (country of affiliation)', () => {
  it('checks the INSZ mod-97 digits, before and from 2000', () => {
    assert.equal(isValidInsz('68041200227'), true);
    assert.equal(isValidInsz('01092311386'), true, 'born 2001: the check counts a leading 2');
    assert.equal(isValidInsz('68041200228'), false);
    assert.equal(isValidInsz('68041200128'), true, 'the number the refusal test uses is valid');
    assert.equal(isValidInsz('6804120022'), false);
    assert.equal(isValidInsz('6804120022a'), false);
  });

  it('identifies a citizen by number and demographics, accents, case and separators aside', () => {
    assert.equal(identify(LAMBERT, BELGIAN_PATIENTS)?.insz, '68041200227');
    assert.equal(identify({ ...LAMBERT, family: 'LAMBERT', given: 'camille' }, BELGIAN_PATIENTS)?.insz, '68041200227');
    assert.equal(identify({ ...LAMBERT, given: 'Marie' }, BELGIAN_PATIENTS)?.insz, '68041200227', 'a second given name counts');
    assert.equal(identify(parseForeignDemographics({ ...LAMBERT, id: '68.04.12-002.27' }), BELGIAN_PATIENTS)?.insz, '68041200227', 'the number as printed on the card');
  });

  it('refuses a mismatch and an unknown number alike (undefined), so existence is not revealed', () => {
    assert.equal(identify({ ...LAMBERT, birthDate: '1968-04-13' }, BELGIAN_PATIENTS), undefined);
    assert.equal(identify({ ...LAMBERT, family: 'Dubois' }, BELGIAN_PATIENTS), undefined);
    assert.equal(identify({ ...LAMBERT, given: 'Claire' }, BELGIAN_PATIENTS), undefined);
    assert.equal(identify({ ...LAMBERT, id: '68041200128' }, BELGIAN_PATIENTS), undefined, 'a valid number nobody has');
    assert.equal(identify({ ...LAMBERT, id: '68041200228' }, BELGIAN_PATIENTS), undefined, 'a number whose check fails');
  });

  it('rejects a malformed request as the caller\'s mistake', () => {
    assert.throws(() => parseForeignDemographics({ ...LAMBERT, birthDate: '12-04-1968' }), IdentificationError);
    assert.throws(() => parseForeignDemographics({ ...LAMBERT, family: '' }), IdentificationError);
    assert.throws(() => parseForeignDemographics(undefined), IdentificationError);
  });
});
