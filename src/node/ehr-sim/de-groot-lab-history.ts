import type { Resource } from '@medplum/fhirtypes';
import { DE_GROOT, organizationByUra } from '../../sandbox/cast.ts';
import * as b from './build.ts';
import { Chart } from './build.ts';
import { LABS } from './catalogue.ts';
import { daysBefore } from './dates.ts';
import { DE_GROOT_HOLDERS } from './de-groot.ts';

// Mr De Groot's earlier diabetes check-ups at the GP (issue 19: lab trends): HbA1c creeping up
// and eGFR slowly down over the last year, before the values in de-groot.ts (14 days ago). Built
// under a seed of its own so its ids never meet de-groot.ts's, then filed under his GP record.

export function deGrootLabHistory(ura: string, seed: string, reference: string): Resource[] {
  if (ura !== DE_GROOT_HOLDERS.gp) return [];
  const org = organizationByUra(ura);
  if (!org) return [];
  const own = new Chart({ ura, name: org.name }, { ...DE_GROOT }, seed);
  const chart = new Chart({ ura, name: org.name }, { ...DE_GROOT }, `${seed}:lab-history`);
  const at = (daysAgo: number) => daysBefore(reference, daysAgo, 8);
  for (const [daysAgo, hba1c, egfr] of [
    [380, 48, 86],
    [200, 52, 82],
  ] as const) {
    b.labResult(chart, LABS.hba1c, hba1c, at(daysAgo));
    b.labResult(chart, LABS.egfr, egfr, at(daysAgo));
  }
  return chart.resources.map((r) => ({ ...r, subject: own.patientRef }) as Resource);
}
