// What other parts may use of the sandbox: the shape of the manifest it writes, which the
// conformance run reads to find a sandbox network's addresses.
export type { Manifest } from './manifest.ts';
