import { consentCases } from './consent.ts';
import { directoryCases } from './directory.ts';
import type { MatrixCase } from './harness.ts';
import { identityCases } from './identity.ts';
import { nodeCases } from './node.ts';
import { portalCases } from './portal.ts';
import { pseudonymCases } from './pseudonyms.ts';
import { referralIndexCases } from './referral-index.ts';
import { transparencyCases } from './transparency.ts';
import { trustCases } from './trust.ts';

/** Every part's table of hostile requests. */
export const MATRIX: Record<string, MatrixCase[]> = {
  trust: trustCases,
  directory: directoryCases,
  prs: pseudonymCases,
  nvi: referralIndexCases,
  consent: consentCases,
  transparency: transparencyCases,
  identity: identityCases,
  node: nodeCases,
  portal: portalCases,
};
