import { writeFileSync } from 'node:fs';
import type { Patient } from '@medplum/fhirtypes';
import type { CitizenRecord } from '../identity/directory.ts';
import { join } from 'node:path';
import { thumbprintOf } from '../kit/http/peer.ts';
import type { RunningService } from '../kit/http/service.ts';
import { pemToDer } from '../kit/pki/certificates.ts';
import type { TlsIdentity } from '../kit/part.ts';
import type { Store } from '../kit/store/store.ts';
import { generateResearchPopulation } from '../node/ehr-sim/research-population.ts';
import { seedEhr } from '../node/ehr-sim/store.ts';
import { HDAB_ORGANIZATION_TYPE } from '../secondary-use/contract.ts';
import { createHdabPart, RESEARCH_ORGANIZATION_TYPE } from '../secondary-use/part.ts';
import { seedTrust } from '../trust/seed.ts';
import { type CastOrganization, OPERATOR } from './cast.ts';
import { type SandboxContext, startPart } from './context.ts';

// Secondary use in the sandbox (issue 22): the HDAB is a participant of its own type (operated by
// the network operator, its own URA and certificate, so holders know the caller is the HDAB), a
// university is an admitted research organisation, and the HDAB part runs through the same
// createHdabPart as `ldn serve hdab`, named 'hdab' in the network (where nodes find its JWKS).

export const HDAB_PARTICIPANT = { ura: '90000950', name: 'Health Data Access Body (HDAB)', type: HDAB_ORGANIZATION_TYPE };
export const RESEARCH_ORGANISATIONS = [{ ura: '90000960', name: 'Universiteit Utrecht, Julius Centrum', type: RESEARCH_ORGANIZATION_TYPE }];
/** A researcher at the university: a person in the professional identity provider's directory, bound to its URA. */
export const RESEARCHERS = [{ deziNumber: '900009601', initials: 'R.', prefix: 'de', surname: 'Boer', roleCode: '88.000', ura: '90000960' }];

export interface SecondaryUseIdentities {
  hdab: TlsIdentity;
  research: Map<string, TlsIdentity>;
  files: Map<string, { cert: string; key: string }>;
}

/** Admits the HDAB and the research organisations and issues their certificates (with the cast, before the status list is read). */
export async function admitSecondaryUse(sb: Pick<SandboxContext, 'pki'>, trustStore: Store): Promise<SecondaryUseIdentities> {
  const organizations = [HDAB_PARTICIPANT, ...RESEARCH_ORGANISATIONS].map((o) => ({ ...o, agb: '00000000', city: 'Utrecht', node: '' }));
  const seeded = await seedTrust(trustStore, { ca: sb.pki.ca, organizations, vendors: [], operator: OPERATOR });
  const files = new Map<string, { cert: string; key: string }>();
  for (const [ura, id] of seeded.participants) {
    const cert = join(sb.pki.dir, `org-${ura}.pem`);
    const key = join(sb.pki.dir, `org-${ura}-key.pem`);
    writeFileSync(cert, id.cert);
    writeFileSync(key, id.key, { mode: 0o600 });
    files.set(ura, { cert, key });
  }
  const research = new Map(RESEARCH_ORGANISATIONS.map((o) => [o.ura, seeded.participants.get(o.ura)!]));
  return { hdab: seeded.participants.get(HDAB_PARTICIPANT.ura)!, research, files };
}

export async function startHdab(
  sb: SandboxContext,
  ids: SecondaryUseIdentities,
  portal?: TlsIdentity,
): Promise<{ service: RunningService; part: ReturnType<typeof createHdabPart> }> {
  // Researchers' calls come through the portal (its certificate, by thumbprint) with their verklaring.
  const portalThumbprint = portal ? thumbprintOf(pemToDer(portal.cert)) : undefined;
  const part = createHdabPart({ isResearcherPortal: (peer) => !!portalThumbprint && peer.thumbprint === portalThumbprint });
  const service = await startPart(sb, part, { identity: ids.hdab, settings: { operator_ura: OPERATOR.ura, operator_system_number: '1' } });
  return { service, part };
}

/** The manifest's view: who the HDAB is and the research organisations' certificates. */
export function secondaryUseManifest(ids: SecondaryUseIdentities, hdab: { url: string }) {
  return {
    hdab: { ura: HDAB_PARTICIPANT.ura, name: HDAB_PARTICIPANT.name, url: hdab.url, cert: ids.files.get(HDAB_PARTICIPANT.ura)!.cert, key: ids.files.get(HDAB_PARTICIPANT.ura)!.key },
    researchOrganisations: RESEARCH_ORGANISATIONS.map((o) => ({ ura: o.ura, name: o.name, cert: ids.files.get(o.ura)!.cert, key: ids.files.get(o.ura)!.key })),
  };
}

/**
 * Adds the EHR simulator's research population (a few thousand patients, some with a TIA and a
 * statin) to the cast's holders, so a permit's cohort is big enough to count. Deterministic; a
 * store that already holds it (persistent sandbox) is left as it is.
 */
export async function seedResearchPopulation(stores: Map<string, Store>, organizations: readonly CastOrganization[], patients: number): Promise<number> {
  const batches = new Map<string, Parameters<typeof seedEhr>[2] & unknown[]>();
  let first = true;
  let total = 0;
  const flush = async (ura: string) => {
    const batch = batches.get(ura);
    if (batch?.length) total += await seedEhr(stores.get(ura)!, ura, batch);
    batches.set(ura, []);
  };
  const holders = organizations.filter((o) => stores.has(o.ura)).map((o) => ({ ura: o.ura, name: o.name, type: o.type }));
  for (const chart of generateResearchPopulation({ patients, organizations: holders, seed: 'sandbox-research', bsnBase: 7_000_000 })) {
    if (first) {
      first = false;
      const id = chart.resources.find((r) => r.resourceType === 'Patient')?.id;
      const [{ n }] = await stores.get(chart.ura)!.query<{ n: string }>("SELECT count(*) AS n FROM ehr_resources WHERE resource_type = 'Patient' AND id = $1", [id]);
      if (Number(n) > 0) return 0;
    }
    const batch = batches.get(chart.ura) ?? [];
    batch.push(...chart.resources);
    batches.set(chart.ura, batch);
    if (batch.length >= 2000) await flush(chart.ura);
  }
  for (const ura of batches.keys()) await flush(ura);
  return total;
}

/** The research population's people as citizens who can log in to the citizen portal (their access log shows research use). */
export function researchPopulationCitizens(patients: number): CitizenRecord[] {
  const out: CitizenRecord[] = [];
  for (const chart of generateResearchPopulation({ patients, organizations: 1, seed: 'sandbox-research', bsnBase: 7_000_000 })) {
    const p = chart.resources.find((r): r is Patient => r.resourceType === 'Patient');
    const name = p?.name?.[0];
    out.push({ bsn: chart.bsn, name: [...(name?.given ?? []), name?.family].filter(Boolean).join(' ') || chart.bsn, birthDate: p?.birthDate });
  }
  return out;
}
