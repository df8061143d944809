// What other parts may use of the care-services directory: the replica a node keeps of it
// (mCSD _history updates, endpoint search) and how to read a reference's id.
// Everything else under src/directory is its implementation.
export { referencedId } from './references.ts';
export { httpFetcher } from './replica/fetchers.ts';
export { REPLICA_MIGRATIONS } from './replica/migrations.ts';
export { findEndpoints, searchReplica } from './replica/search.ts';
export { UpdateClient } from './replica/update-client.ts';
