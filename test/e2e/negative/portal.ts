import type { MatrixCase } from './harness.ts';

// The portal (citizen and operator): CSRF on every change, only one's own records (IDOR), no
// open redirects, a fresh session on every login (fixation), NUL and junk at the edge. Requests
// ask for JSON, so refusals come as OperationOutcomes (browsers get the same status as a page).

const PT = 'portal';
const FORM = 'application/x-www-form-urlencoded';

export const portalCases: MatrixCase[] = [
  { name: 'portal: consent change without a session', target: PT, method: 'POST', path: '/citizen/consent', as: 'none', raw: 'choice=permit', contentType: FORM, expect: 401 },
  { name: 'portal: consent change without a CSRF token', target: PT, method: 'POST', path: '/citizen/consent', as: 'none', session: 'citizen', raw: 'choice=permit', contentType: FORM, expect: 403 },
  { name: 'portal: consent change with a wrong CSRF token', target: PT, method: 'POST', path: '/citizen/consent', as: 'none', session: 'citizen', raw: 'csrf=forged&choice=permit', contentType: FORM, expect: 403 },
  { name: "portal: withdraw another citizen's consent without CSRF (IDOR)", target: PT, method: 'POST', path: '/citizen/consent/someone-elses-id', as: 'none', session: 'citizen', raw: 'action=withdraw', contentType: FORM, expect: 403 },
  { name: 'portal: logout without CSRF', target: PT, method: 'POST', path: '/citizen/logout', as: 'none', session: 'citizen', raw: '', contentType: FORM, expect: 403 },
  { name: 'portal: a forged session cookie gets no data (fixation)', target: PT, path: '/citizen/data', as: 'none', headers: { cookie: 'ldn_citizen=attacker-chosen-session-id-123456' }, expect: 302, location: /\/citizen\/$/ },
  { name: 'portal: callback without a pending login', target: PT, path: '/citizen/callback?code=x&state=y', as: 'none', expect: 400, html: true },
  { name: 'portal: operator login with a wrong password', target: PT, method: 'POST', path: '/operator/login', as: 'none', raw: 'password=wrong', contentType: FORM, expect: 303, location: /\/operator\// },
  { name: 'portal: operator action without a session', target: PT, method: 'POST', path: '/operator/participants/90000101/status', as: 'none', raw: 'status=suspended', contentType: FORM, expect: 401 },
  { name: 'portal: operator action with a citizen session', target: PT, method: 'POST', path: '/operator/participants/90000101/status', as: 'none', session: 'citizen', raw: 'status=suspended', contentType: FORM, expect: 401 },
  { name: 'portal: operator revoke without a session', target: PT, method: 'POST', path: '/operator/certificates/01/revoke', as: 'none', raw: 'reason=x', contentType: FORM, expect: 401 },
  { name: 'portal: NUL in a portal path', target: PT, path: '/citizen/%00', as: 'none', expect: 400, code: 'invalid' },
  { name: 'portal: NUL in a form field', target: PT, method: 'POST', path: '/citizen/consent', as: 'none', session: 'citizen', raw: 'csrf=%00', contentType: FORM, expect: 400, code: 'invalid' },
  { name: 'portal: unknown page', target: PT, path: '/citizen/../../etc/passwd', as: 'none', expect: 404 },
  { name: 'portal: open redirect through the login', target: PT, path: '/citizen/login?next=https://evil.example/', as: 'none', expect: 302, location: /^https:\/\/127\.0\.0\.1:\d+\// },
  { name: 'portal: open redirect through the viewer login', target: 'nodehost:veluwe', path: '/viewer/login?redirect_uri=https://evil.example/', as: 'none', expect: 302, location: /^https:\/\/127\.0\.0\.1:\d+\// },
];
