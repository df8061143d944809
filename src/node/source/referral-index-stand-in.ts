import type { AgreementsDocument } from '../../trust/contract.ts';
import type { NodeEnvironment, NodeTenant } from '../environment.ts';

// For the referral sync's tests: a node environment whose referral index is a set of
// "<bsn>|<category>" entries, so a test can see exactly what the sync registered and withdrew.
// `down` makes every call fail as an unreachable NVI would.

export function referralIndexStandIn(agreements: AgreementsDocument): { env: NodeEnvironment; nvi: Set<string>; setDown(down: boolean): void } {
  const nvi = new Set<string>();
  let down = false;
  const reachable = () => {
    if (down) throw new Error('NVI unreachable');
  };
  const env = {
    agreements: () => agreements,
    registerReferral: async (_t: NodeTenant, bsn: string, categories: string[]) => {
      reachable();
      for (const c of categories) nvi.add(`${bsn}|${c}`);
    },
    withdrawReferral: async (_t: NodeTenant, bsn: string, categories: string[]) => {
      reachable();
      for (const c of categories) nvi.delete(`${bsn}|${c}`);
    },
  } as unknown as NodeEnvironment;
  return { env, nvi, setDown: (d) => (down = d) };
}
