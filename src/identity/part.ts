import { createCitizenIdentityPart } from './citizen.ts';
import { createIdentityPart } from './professional.ts';

// The two identity parts with their defaults (cast directories, clients from settings).
// Use the create* factories to pass clients, directories or options in code.

export const identityPart = createIdentityPart();
export const citizenIdentityPart = createCitizenIdentityPart();

export { createCitizenIdentityPart, createIdentityPart };
