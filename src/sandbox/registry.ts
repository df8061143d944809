import type { PartDefinition } from '../kit/part.ts';

// Central parts in start order. Each part lives in its own folder and is loaded through its
// public module; the sandbox never reaches into a part's internals or tables.

export interface CentralPartEntry {
  name: string;
  /** Loads the part definition. */
  load(): Promise<PartDefinition>;
}

export const CENTRAL_PARTS: CentralPartEntry[] = [];

/** Names `ldn serve` accepts. */
export function partNames(): string[] {
  return CENTRAL_PARTS.map((p) => p.name);
}
