import type { MatrixCase } from './harness.ts';

// The login providers (Dezi-like and DigiD-like): no open redirects, no unregistered clients,
// PKCE required, verklaring administration for the organisation only. The OpenID endpoints
// answer as the OpenID Connect library prescribes (its JSON errors, or an error page).

const I = 'identity';
const CI = 'citizen-identity';

export const identityCases: MatrixCase[] = [
  { name: 'identity: token endpoint without a client', target: I, method: 'POST', path: '/token', as: 'none', raw: 'grant_type=authorization_code&code=x', contentType: 'application/x-www-form-urlencoded', expect: 400, oauth: true },
  { name: 'identity: token endpoint with a forged code', target: I, method: 'POST', path: '/token', as: 'none', raw: 'grant_type=authorization_code&code=forged&client_id=viewer-veluwe&code_verifier=x', contentType: 'application/x-www-form-urlencoded', expect: 400, oauth: true },
  { name: 'identity: userinfo without a token', target: I, path: '/userinfo', as: 'none', expect: 401, oauth: true },
  { name: 'identity: userinfo with a forged token', target: I, path: '/userinfo', as: 'none', bearer: 'Bearer forged', expect: 401, oauth: true },
  { name: 'identity: login form for an unknown interaction', target: I, method: 'POST', path: '/login/not-an-interaction', as: 'none', raw: 'account=900001011&do=login', contentType: 'application/x-www-form-urlencoded', expect: 400, html: true },
  { name: 'identity: login form with NUL', target: I, method: 'POST', path: '/login/x', as: 'none', raw: 'account=9000%0001011&do=login', contentType: 'application/x-www-form-urlencoded', expect: 400, code: 'invalid' },
  { name: "identity: verklaring revocation by a participant that is not the holder", target: I, method: 'POST', path: '/admin/verklaringen/x/revoke', as: 'leiden', body: {}, expect: 404 },
  { name: 'identity: verklaring status of an unknown id', target: I, path: '/status/v1/verklaring/unknown', as: 'none', expect: 404 },
  { name: 'citizen-identity: token endpoint without a client', target: CI, method: 'POST', path: '/token', as: 'none', raw: 'grant_type=authorization_code&code=x', contentType: 'application/x-www-form-urlencoded', expect: 400, oauth: true },
  { name: 'citizen-identity: userinfo with a forged token', target: CI, path: '/userinfo', as: 'none', bearer: 'Bearer forged', expect: 401, oauth: true },
  { name: 'citizen-identity: login form for an unknown interaction', target: CI, method: 'POST', path: '/login/not-an-interaction', as: 'none', raw: 'account=900010010&do=login', contentType: 'application/x-www-form-urlencoded', expect: 400, html: true },
  { name: 'citizen-identity: NUL in the path', target: CI, path: '/login/%00', as: 'none', expect: 400, code: 'invalid' },
];
