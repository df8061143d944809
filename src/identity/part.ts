import { createCitizenIdentityPart } from './citizen.ts';
import { createIdentityPart } from './professional.ts';

// The two identity parts as `ldn serve` runs them: everything from settings (clients, the
// directory — "cast" only for a demonstration — and a password unless require_password=false).
// Use the create* factories to pass clients, directories or options in code.

export const identityPart = createIdentityPart();
export const citizenIdentityPart = createCitizenIdentityPart();

export { createCitizenIdentityPart, createIdentityPart };
