// How long a credential may be: client assertions, access tokens, Dezi verklaringen and ID
// tokens are compact JWS of a few hundred bytes plus, at most, one certificate chain in x5c
// (about 2 kB). Anything near the body limit is an attack on the verifier (parsing and base64
// work on attacker-sized input), so it is refused before any of that.

export const MAX_CREDENTIAL_CHARS = 8 * 1024;

/** A refusal reason when `value` is longer than a credential may be, else undefined. */
export function credentialTooLong(name: string, value: string | undefined): string | undefined {
  return value !== undefined && value.length > MAX_CREDENTIAL_CHARS ? `${name} is longer than ${MAX_CREDENTIAL_CHARS} characters` : undefined;
}
