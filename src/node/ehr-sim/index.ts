// EHR simulator (sandbox only): synthetic FHIR R4 EHRs for the cast's organisations and for
// scale runs. Nothing in the node may import this folder outside sandbox wiring and tests.
export { castEhrData, CAST_SEED, ehrDataFor } from './cast-data.ts';
export { DE_GROOT_HOLDERS } from './de-groot.ts';
export { type EhrFaults, EhrFaultRegistry, parseFaults } from './faults.ts';
export { type EhrSimulatorOptions, ehrSimulatorPlugin } from './plugin.ts';
export { generatePopulation, type PopulationChart, type PopulationOptions, type PopulationOrganization, populationOrganizations } from './population.ts';
export { patientIdOf } from './resource-facts.ts';
export {
  type Change,
  changesSince,
  deleteResource,
  EHR_MIGRATIONS,
  openEhrStore,
  putResource,
  readResource,
  searchResources,
  seedEhr,
  SUPPORTED_TYPES,
} from './store.ts';
export { custodianSystem, ehrSchema, TERMINOLOGY } from './systems.ts';
export { openCastEhrStores } from './sandbox.ts';
