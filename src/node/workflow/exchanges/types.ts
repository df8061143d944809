import type { Resource } from '@medplum/fhirtypes';

/** What differs per notified-pull exchange; the mechanism itself is in ../ (once). */
export interface WorkflowExchange {
  code: string;
  /** Problems with what the sender names (read from its EHR), before any Task is made. */
  checkInputs(resources: Resource[]): string[];
  /** The notification's short description (no patient name: it travels before any check). */
  describe(resources: Resource[]): string;
}
