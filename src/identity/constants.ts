// URIs and paths of the identity parts, in one place (next to kit/identifiers' systems, which
// these are not: they are the providers' own vocabulary).

/** JSON schema the Dezi verklaring declares in its `json_schema` claim. */
export const VERKLARING_JSON_SCHEMA = 'https://www.dezi.nl/json_schemas/v1/verklaring.json';

/** eIDAS levels of assurance, used as `loa_dezi` (professional) and `acr` (citizen). */
export const LOA = {
  low: 'http://eidas.europa.eu/LoA/low',
  substantial: 'http://eidas.europa.eu/LoA/substantial',
  high: 'http://eidas.europa.eu/LoA/high',
} as const;
export type Loa = (typeof LOA)[keyof typeof LOA];

/** Registry the professional's role code comes from (`rol_code_bron`); Dezi uses a URI per register. */
export const ROLE_CODE_SOURCE_BIG = 'http://www.dezi.nl/rol_code_bron/big';

/** Paths both providers serve; the OIDC library owns these, Fastify forwards them. */
export const OIDC_ROUTES = {
  authorization: '/authorize',
  token: '/token',
  userinfo: '/userinfo',
  jwks: '/jwks',
  end_session: '/logout',
  pushed_authorization_request: '/par',
} as const;
export const DISCOVERY_PATH = '/.well-known/openid-configuration';
export const LOGIN_PATH = '/login';

/** Professional part only: the verklaring keys (separate from id_token keys) and status. */
export const VERKLARING_JWKS_PATH = '/dezi/jwks.json';
export const VERKLARING_STATUS_PREFIX = '/status/v1/verklaring';
/** mTLS-only administration (revocation) of verklaringen. */
export const VERKLARING_ADMIN_PREFIX = '/admin/verklaring';
