// The holder's check of a data permit is the one every relying part makes (secondary-use contract).
export { EXPORTABLE_TYPES, hdabKeys, PermitRefused, permitVerifier, parsePermitClaims } from '../../secondary-use/contract.ts';
