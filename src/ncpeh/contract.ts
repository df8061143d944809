// What other parts may use of the NCPeH: the addresses of its outgoing service (a Dutch node asks
// it for a foreign patient's summary), the tag that names the country a summary came from, and how
// to read a foreign concept after transcoding (Dutch term, original term, original codes).
// Everything else under src/ncpeh is its implementation.

export { ORIGIN_TAG_SYSTEM, OUTGOING_COUNTRIES_PATH, OUTGOING_SUMMARY_PATH, type ForeignPatientQuery } from './outgoing.ts';
export { type IncomingTerms, incomingTerms } from './terms/incoming-read.ts';
export { countryName } from './countries.ts';
export { NCPEH_ERRORS, NcpehError, type NcpehErrorCode } from './errors.ts';

// What a node and the audit log use of the NCPeH's national side: a foreign professional's
// assertion as a node's user, and the name prefix such a user is logged under.
export { CROSS_BORDER_NAME_PREFIX } from './national-assertion.ts';
export { crossBorderUserVerifier } from './node-verifier.ts';
