import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Bundle, Patient } from '@medplum/fhirtypes';
import fc from 'fast-check';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import { testBsn } from '../kit/identifiers/bsn.ts';
import { createCa, issueCertificate } from '../kit/pki/certificates.ts';
import { AssertionError, type HcpAssertion, signHcpAssertion, verifyHcpAssertion } from './assertion.ts';
import { DemographicsError, demographicsMatch, normalizeName, parseDemographics, patientsOf } from './identification.ts';
import { isNationalAssertion, signNationalAssertion, verifyNationalAssertion } from './national-assertion.ts';
import { findOrder, openOrders } from './eprescription.ts';
import { mapForeignRole } from './roles.ts';
import { type SignedTrustList, signTrustList, type TrustListContent, thumbprintOfPem, TrustListError, verifyTrustList } from './trust-list.ts';

async function member(country: string) {
  const ca = await createCa(`CA ${country}`);
  const gw = await issueCertificate(ca, { commonName: `gateway ${country}`, uzi: { ura: '70000001', systemNumber: '1', agb: '00000000' } });
  const keys = await generateKeyPair('ES256', { extractable: true });
  return { country, ca, gw, keys, publicJwk: await exportJWK(keys.publicKey) };
}
type Member = Awaited<ReturnType<typeof member>>;

function contentOf(members: Member[]): TrustListContent {
  return {
    version: 1,
    issued: '2026-12-03T00:00:00Z',
    entries: members.map((m) => ({ country: m.country, name: `NCPeH ${m.country}`, gatewayUrl: `https://${m.country.toLowerCase()}.example`, caCert: m.ca.certPem, gatewayThumbprint: thumbprintOfPem(m.gw.certPem), signingKey: m.publicJwk as JWK })),
  };
}
async function signedBy(content: TrustListContent, members: Member[]): Promise<SignedTrustList> {
  return { content, signatures: await Promise.all(members.map((m) => signTrustList(content, m.country, m.keys.privateKey))) };
}

const DOCTOR: HcpAssertion = { country: 'BE', professionalId: 'BE-1', professionalName: 'Dr. A', role: '2212', organizationId: '71000101', organizationName: 'UZ Brussel', purpose: 'TREATMENT' };

describe('the mutually signed trust list', async () => {
  const nl = await member('NL');
  const be = await member('BE');
  const xx = await member('DE');

  it('counts only when every member signed the same content', async () => {
    const content = contentOf([nl, be]);
    const ok = await verifyTrustList(await signedBy(content, [nl, be]));
    assert.deepEqual(ok.entries.map((e) => e.country), ['NL', 'BE']);
    await assert.rejects(verifyTrustList(await signedBy(content, [nl])), (e: TrustListError) => e instanceof TrustListError && e.code === 'ERR_NCPEH_TRUST_LIST_INVALID', 'one signature missing');
    // A third party signing in Belgium's place does not count.
    const forged = await signedBy(content, [nl]);
    forged.signatures.push({ country: 'BE', jws: (await signTrustList(content, 'BE', xx.keys.privateKey)).jws });
    await assert.rejects(verifyTrustList(forged), /signature of BE does not verify/);
  });

  it('refuses any change after signing (an added member, another CA)', async () => {
    const list = await signedBy(contentOf([nl, be]), [nl, be]);
    const swapped = structuredClone(list);
    swapped.content.entries[1].caCert = xx.ca.certPem;
    await assert.rejects(verifyTrustList(swapped), TrustListError);
    const added = structuredClone(list);
    added.content.entries.push(contentOf([xx]).entries[0]);
    await assert.rejects(verifyTrustList(added), TrustListError, 'the members signed a list without DE');
    const twice = await signedBy({ ...contentOf([nl, be]), entries: [...contentOf([nl, be]).entries, contentOf([nl]).entries[0]] }, [nl, be]);
    await assert.rejects(verifyTrustList(twice), /twice/);
  });

  it('professional assertions verify only with the issuing country\'s listed key, for the addressed country, while fresh', async () => {
    const list = await verifyTrustList(await signedBy(contentOf([nl, be]), [nl, be]));
    const jwt = await signHcpAssertion(DOCTOR, 'NL', be.keys.privateKey);
    assert.deepEqual(await verifyHcpAssertion(jwt, list, 'BE', 'NL'), DOCTOR);
    await assert.rejects(verifyHcpAssertion(jwt, list, 'NL', 'NL'), AssertionError, 'claimed by the wrong gateway');
    await assert.rejects(verifyHcpAssertion(jwt, list, 'BE', 'BE'), AssertionError, 'addressed to another country');
    await assert.rejects(verifyHcpAssertion(await signHcpAssertion(DOCTOR, 'NL', xx.keys.privateKey), list, 'BE', 'NL'), AssertionError, 'a key not on the list');
    await assert.rejects(verifyHcpAssertion('', list, 'BE', 'NL'), (e: AssertionError) => e instanceof AssertionError && e.code === 'ERR_NCPEH_ASSERTION_REFUSED' && e.status === 401 && e.issueCode === 'security');
    await assert.rejects(verifyHcpAssertion(await signHcpAssertion(DOCTOR, 'NL', be.keys.privateKey, -10), list, 'BE', 'NL'), AssertionError, 'expired');
  });

  it('the national assertion is good only for the NCPeH organisation and names country and organisation, not the person', async () => {
    const jwks = async () => nl.keys.publicKey;
    const jwt = await signNationalAssertion({ hcp: DOCTOR, uziRole: '01.045', ncpehUra: '90000190', countryName: 'België' }, nl.keys.privateKey, 'k');
    assert.ok(isNationalAssertion(jwt));
    assert.ok(!isNationalAssertion('not-a-jwt'));
    const user = await verifyNationalAssertion(jwt, jwks, '90000190');
    assert.deepEqual(user, { deziNumber: 'BE-BE-1', roleCode: '01.045', name: 'Buitenland, door België, UZ Brussel', ura: '90000190' });
    await assert.rejects(verifyNationalAssertion(jwt, jwks, '90000101'), /another organisation/);
    await assert.rejects(verifyNationalAssertion(jwt, async () => be.keys.publicKey, '90000190'));
  });
});

describe('role mapping as data', () => {
  it('maps doctors for the summary, pharmacists for prescriptions, nothing else', () => {
    assert.equal(mapForeignRole('2212', 'patient-summary')?.uziRole, '01.045');
    assert.equal(mapForeignRole('2262', 'eprescription')?.uziRole, '17.000');
    assert.equal(mapForeignRole('2262', 'patient-summary'), undefined);
    assert.equal(mapForeignRole('2221', 'patient-summary'), undefined, 'nurses: no mapping');
    fc.assert(fc.property(fc.string(), (code) => mapForeignRole(code, 'patient-summary') === undefined || ['221', '2211', '2212'].includes(code)));
  });
});

describe('identification by BSN and demographics', () => {
  const patient: Patient = { resourceType: 'Patient', name: [{ family: 'de Groot', given: ['Hendrik'], text: 'Hendrik de Groot' }], birthDate: '1974-03-12' };
  const bsn = testBsn(1001);
  it('confirms a record that agrees on all, whatever the case, accents and the prefix', () => {
    for (const family of ['de Groot', 'De Groot', 'DE GROOT', 'Groot', 'de Gróot']) {
      assert.ok(demographicsMatch({ bsn, family, given: 'Hendrik', birthDate: '1974-03-12' }, [patient]), family);
    }
    assert.ok(!demographicsMatch({ bsn, family: 'de Groot', given: 'Hendrik', birthDate: '1974-03-13' }, [patient]));
    assert.ok(!demographicsMatch({ bsn, family: 'de Vries', given: 'Hendrik', birthDate: '1974-03-12' }, [patient]));
    assert.ok(!demographicsMatch({ bsn, family: 'de Groot', given: 'Henk', birthDate: '1974-03-12' }, [patient]));
    assert.ok(!demographicsMatch({ bsn, family: 'de Groot', given: 'Hendrik', birthDate: '1974-03-12' }, []), 'no record: no match');
  });
  it('parses what the foreign side sends, or says what is wrong (property: never throws anything else)', () => {
    assert.deepEqual(parseDemographics({ bsn, family: ' de Groot ', given: 'Hendrik', birthDate: '1974-03-12' }), { bsn, family: 'de Groot', given: 'Hendrik', birthDate: '1974-03-12' });
    assert.throws(() => parseDemographics({ bsn: '123456789', family: 'x', given: 'y', birthDate: '1974-03-12' }), DemographicsError);
    assert.throws(() => parseDemographics({ bsn: '123456789', family: 'x', given: 'y', birthDate: '1974-03-12' }), (e: DemographicsError) => e.code === 'ERR_NCPEH_DEMOGRAPHICS_INVALID' && e.status === 400 && !e.message.includes('123456789'));
    assert.throws(() => parseDemographics({ bsn, family: 'x', given: 'y', birthDate: '12-03-1974' }), DemographicsError);
    fc.assert(
      fc.property(fc.anything(), (input) => {
        try {
          const d = parseDemographics(input);
          return /^\d{9}$/.test(d.bsn) && d.family.length > 0;
        } catch (err) {
          return err instanceof DemographicsError;
        }
      }),
      { numRuns: 300 },
    );
    fc.assert(fc.property(fc.string(), (s) => normalizeName(s) === normalizeName(normalizeName(s))));
  });
  it('finds the patients of a document', () => {
    const doc: Bundle = { resourceType: 'Bundle', type: 'document', entry: [{ resource: { resourceType: 'Composition' } as never }, { resource: patient }] };
    assert.equal(patientsOf(doc).length, 1);
  });
});

describe('open prescriptions from an overview', () => {
  const order = (status: string, source: string, intent = 'order') => ({ resource: { resourceType: 'MedicationRequest', status, intent, subject: { reference: 'p' }, meta: { source } } as never });
  it('keeps active orders whose source names a holder, with a handle of URA and id', () => {
    const open = openOrders({
      resourceType: 'Bundle',
      type: 'collection',
      entry: [
        order('active', 'https://127.0.0.1:4443/org/90000103/fhir/MedicationRequest/mr-1'),
        order('stopped', 'https://127.0.0.1:4443/org/90000103/fhir/MedicationRequest/mr-2'),
        order('active', 'https://127.0.0.1:4443/org/90000103/fhir/MedicationRequest/mr-3', 'plan'),
        order('active', 'not a url'),
      ],
    });
    assert.deepEqual(open.map((o) => [o.handle, o.holderFhirBase, o.id]), [['90000103.mr-1', 'https://127.0.0.1:4443/org/90000103/fhir', 'mr-1']]);
    assert.equal(open[0].order.id, '90000103.mr-1');
    assert.equal((open[0].order as { meta?: unknown }).meta, undefined, 'the holder\'s address stays home');
    assert.equal(findOrder(open, '90000103.mr-1')?.source.id, 'mr-1');
    assert.equal(findOrder(open, '90000103.mr-2'), undefined, 'a stopped order is not open');
  });
  it('accepts any holder copy of a merged item (the representative may change between overviews)', () => {
    const open = openOrders({
      resourceType: 'Bundle',
      type: 'collection',
      entry: [
        { fullUrl: 'urn:ldn:overview:item-1', ...order('active', 'https://n/org/90000102/fhir/MedicationRequest/a') },
        {
          resource: {
            resourceType: 'Provenance',
            recorded: '2026-12-03T00:00:00Z',
            agent: [],
            target: [{ reference: 'urn:ldn:overview:item-1' }],
            entity: [
              { role: 'source', what: { reference: 'https://n/org/90000102/fhir/MedicationRequest/a' } },
              { role: 'source', what: { reference: 'https://m/org/90000103/fhir/MedicationRequest/b' } },
            ],
          },
        },
      ],
    });
    assert.equal(open.length, 1);
    assert.equal(findOrder(open, '90000103.b')?.source.holderFhirBase, 'https://m/org/90000103/fhir');
    assert.equal(findOrder(open, '90000102.a')?.source.id, 'a');
  });
  it('never takes a handle from an arbitrary source text (property)', () => {
    fc.assert(
      fc.property(fc.string(), (source) => {
        const open = openOrders({ resourceType: 'Bundle', type: 'collection', entry: [order('active', source)] });
        return open.every((o) => /^\d{8}\.[A-Za-z0-9\-.]{1,64}$/.test(o.handle) && o.holderFhirBase.startsWith('https://'));
      }),
      { numRuns: 300 },
    );
  });
});
