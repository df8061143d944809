import type { PartSettings } from '../../kit/part-settings.ts';

export const ehrSimSettings: PartSettings = [
  { name: 'organizations', type: 'string', doc: 'comma-separated URAs of the cast organisations to simulate (default: every cast organisation)' },
  { name: 'seed', type: 'string', doc: 'seed of the synthetic histories (default: the cast\'s, so De Groot\'s records are the acceptance story\'s)' },
  { name: 'faults_admin', type: 'boolean', default: 'false', doc: 'expose PUT/GET/DELETE /ehr/<ura>/admin/faults (latency, hangs, errors) for tests' },
];
