import type { OperationDefinition } from '@medplum/fhirtypes';

// The OperationDefinition of the node's Patient/$overview (the data-integration function), the
// canonical its CapabilityStatement names; the kit serves it at [base]/OperationDefinition/Patient-overview.
// The operation itself is overview-operation.ts.

export const OVERVIEW_OPERATION_CANONICAL = 'https://ldn.example.nl/fhir/OperationDefinition/Patient-overview';

export const OVERVIEW_OPERATION: OperationDefinition = {
  resourceType: 'OperationDefinition',
  id: 'Patient-overview',
  url: OVERVIEW_OPERATION_CANONICAL,
  version: '0.1.0',
  name: 'PatientOverview',
  title: 'One patient\'s data from every holder, for one exchange',
  status: 'active',
  kind: 'operation',
  publisher: 'LDN',
  description:
    'Localises the patient (referral index), asks every holder the exchange\'s allow-listed searches in parallel under one deadline, ' +
    'and answers one Bundle with each resource\'s source. Called by the organisation\'s own systems with the clinician\'s token and her ' +
    'Dezi verklaring in the Dezi-Verklaring header.',
  affectsState: false,
  code: 'overview',
  resource: ['Patient'],
  system: false,
  type: true,
  instance: false,
  parameter: [
    { name: 'identifier', use: 'in', min: 1, max: '1', type: 'string', documentation: 'http://fhir.nl/fhir/NamingSystem/bsn|<BSN>' },
    { name: 'exchange', use: 'in', min: 0, max: '1', type: 'string', documentation: 'Exchange code from the agreements (default acute-zorg)' },
    { name: 'return', use: 'out', min: 1, max: '1', type: 'Bundle', documentation: 'The merged data, with a provenance per source' },
  ],
};
