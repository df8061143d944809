export * from './bsn.ts';
export * from './roles.ts';
export * from './systems.ts';
