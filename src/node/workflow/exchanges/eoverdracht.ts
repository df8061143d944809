import type { Composition, Resource } from '@medplum/fhirtypes';
import type { WorkflowExchange } from './types.ts';

// eOverdracht (nursing handover, NEN 7545): the workflow Task names one nursing-transfer
// Composition and the sources its sections point at; the receiving nurse pulls those.

export const eoverdracht: WorkflowExchange = {
  code: 'eoverdracht',
  checkInputs(resources: Resource[]): string[] {
    const compositions = resources.filter((r): r is Composition => r.resourceType === 'Composition');
    if (compositions.length !== 1) return ['a nursing handover names exactly one Composition (the transfer document)'];
    const named = new Set(resources.map((r) => `${r.resourceType}/${r.id}`));
    // Every source a section points at travels with it, so that the receiver can open it.
    const missing = (compositions[0].section ?? [])
      .flatMap((s) => s.entry ?? [])
      .map((e) => e.reference ?? '')
      .filter((ref) => ref && !named.has(ref));
    return missing.length ? [`the handover's sections refer to ${missing.join(', ')}, which the Task does not name`] : [];
  },
  describe(resources: Resource[]): string {
    const c = resources.find((r): r is Composition => r.resourceType === 'Composition');
    return c?.title ?? 'Verpleegkundige overdracht';
  },
};
