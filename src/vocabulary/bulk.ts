/**
 * The Hasura request types whose `args` is a list of further requests. The catalogue walks them; the enforcing proxy's
 * fingerprint drops `resource_version` inside them. Its own module, so that the proxy need not load the catalogue.
 */
export const BULK_TYPES: ReadonlySet<string> = new Set(['bulk', 'bulk_atomic', 'bulk_keep_going', 'concurrent_bulk']);
