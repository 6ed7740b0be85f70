// The catalogue of PostgreSQL functions known to be free of side effects: a SELECT that calls only these (and
// reads tables) changes nothing. Everything else a statement calls is reported as `run:function`, because a
// function can do anything: pg_terminate_backend ends sessions, set_config changes settings, dblink_exec runs SQL
// elsewhere, nextval moves a sequence, and a user's `truncate_all_tables()` does what it says.
//
// Deliberately small and explicit: a name joins the list only when the built-in function with that name reads or
// computes and nothing more. Left out on purpose, although some look harmless:
//   - nextval, setval, txid_current, pg_current_xact_id: they write (a sequence, a transaction id);
//   - set_config, pg_advisory_lock and friends, pg_sleep: they change session state or hold the connection;
//   - pg_terminate_backend, pg_cancel_backend, pg_reload_conf, pg_rotate_logfile, pg_switch_wal: server control;
//   - lo_*, pg_read_file, pg_ls_dir, pg_stat_file: large objects and server files;
//   - dblink*, and every extension function not in EXTENSION_FUNCTIONS below.
//
// Names are matched as PostgreSQL resolves them: the parser has already folded unquoted names to lower case
// (`COUNT(*)` is `count`), while a quoted `"Count"` is a different function PostgreSQL would look up, so it is
// not in the list.

const AGGREGATES_AND_WINDOWS = [
  'count', 'sum', 'avg', 'min', 'max', 'array_agg', 'string_agg', 'json_agg', 'jsonb_agg', 'json_object_agg',
  'jsonb_object_agg', 'bool_and', 'bool_or', 'every', 'bit_and', 'bit_or', 'stddev', 'stddev_pop', 'stddev_samp',
  'variance', 'var_pop', 'var_samp', 'percentile_cont', 'percentile_disc', 'mode', 'row_number', 'rank',
  'dense_rank', 'percent_rank', 'cume_dist', 'ntile', 'lag', 'lead', 'first_value', 'last_value', 'nth_value',
];

const CONDITIONALS_AND_MATH = [
  'coalesce', 'nullif', 'greatest', 'least', 'abs', 'ceil', 'ceiling', 'floor', 'round', 'trunc', 'mod', 'power',
  'sqrt', 'sign', 'ln', 'log', 'exp', 'div', 'random', 'width_bucket',
];

const DATES_AND_TIMES = [
  'now', 'clock_timestamp', 'statement_timestamp', 'transaction_timestamp', 'timeofday', 'date_trunc', 'date_part',
  'date_bin', 'extract', 'age', 'make_date', 'make_time', 'make_timestamp', 'make_timestamptz', 'make_interval',
  'to_timestamp', 'to_date', 'to_char', 'to_number', 'justify_days', 'justify_hours', 'justify_interval', 'isfinite',
  'timezone',
];

const STRINGS = [
  'lower', 'upper', 'length', 'char_length', 'character_length', 'octet_length', 'bit_length', 'substring', 'substr',
  'position', 'strpos', 'btrim', 'ltrim', 'rtrim', 'trim', 'replace', 'concat', 'concat_ws', 'format', 'left',
  'right', 'lpad', 'rpad', 'split_part', 'starts_with', 'initcap', 'repeat', 'reverse', 'regexp_replace',
  'regexp_match', 'regexp_matches', 'regexp_split_to_array', 'regexp_split_to_table', 'regexp_like', 'translate',
  'md5', 'encode', 'decode', 'quote_ident', 'quote_literal', 'quote_nullable', 'string_to_array',
  'array_to_string', 'ascii', 'chr', 'to_hex', 'overlay', 'normalize', 'gen_random_uuid', 'like_escape',
];

const JSON_FUNCTIONS = [
  'to_json', 'to_jsonb', 'row_to_json', 'array_to_json', 'json_build_object', 'jsonb_build_object',
  'json_build_array', 'jsonb_build_array', 'json_object', 'jsonb_object', 'json_array_elements',
  'jsonb_array_elements', 'json_array_elements_text', 'jsonb_array_elements_text', 'json_each', 'jsonb_each',
  'json_each_text', 'jsonb_each_text', 'json_object_keys', 'jsonb_object_keys', 'json_extract_path',
  'jsonb_extract_path', 'json_extract_path_text', 'jsonb_extract_path_text', 'json_typeof', 'jsonb_typeof',
  'jsonb_set', 'jsonb_insert', 'jsonb_pretty', 'json_strip_nulls', 'jsonb_strip_nulls', 'jsonb_path_query',
  'jsonb_path_query_array', 'jsonb_path_query_first', 'jsonb_path_exists', 'jsonb_path_match', 'json_array_length',
  'jsonb_array_length', 'json_populate_record', 'jsonb_populate_record', 'json_populate_recordset',
  'jsonb_populate_recordset', 'json_to_record', 'jsonb_to_record', 'json_to_recordset', 'jsonb_to_recordset',
];

const ARRAYS_AND_SETS = [
  'array_length', 'array_upper', 'array_lower', 'array_ndims', 'array_dims', 'cardinality', 'unnest',
  'array_position', 'array_positions', 'array_remove', 'array_replace', 'array_append', 'array_prepend',
  'array_cat', 'generate_series', 'generate_subscripts',
];

/** Introspection: what the console's own read queries call. They read the catalogue and change nothing. */
const INTROSPECTION = [
  'version', 'current_setting', 'current_database', 'current_schema', 'current_schemas', 'current_user',
  'session_user', 'pg_backend_pid', 'pg_postmaster_start_time', 'pg_is_in_recovery', 'inet_server_addr',
  'pg_typeof', 'format_type', 'obj_description', 'col_description', 'shobj_description', 'pg_get_viewdef',
  'pg_get_functiondef', 'pg_get_function_arguments', 'pg_get_function_identity_arguments',
  'pg_get_function_result', 'pg_get_constraintdef', 'pg_get_indexdef', 'pg_get_triggerdef', 'pg_get_ruledef',
  'pg_get_expr', 'pg_get_serial_sequence', 'pg_get_userbyid', 'pg_get_keywords', 'pg_get_statisticsobjdef',
  'pg_get_partkeydef', 'pg_get_partition_constraintdef', 'pg_get_replica_identity_index', 'has_table_privilege',
  'has_column_privilege', 'has_any_column_privilege', 'has_schema_privilege', 'has_function_privilege',
  'has_database_privilege', 'has_sequence_privilege', 'has_type_privilege', 'has_language_privilege',
  'has_server_privilege', 'has_tablespace_privilege', 'has_foreign_data_wrapper_privilege',
  'has_parameter_privilege', 'pg_has_role', 'row_security_active', 'pg_table_is_visible', 'pg_type_is_visible',
  'pg_function_is_visible', 'pg_is_other_temp_schema', 'pg_my_temp_schema', 'pg_relation_is_updatable',
  'pg_column_is_updatable', 'pg_table_size', 'pg_relation_size', 'pg_total_relation_size', 'pg_indexes_size',
  'pg_database_size', 'pg_tablespace_size', 'pg_column_size', 'pg_size_pretty', 'pg_size_bytes',
  'pg_relation_filenode', 'pg_encoding_to_char', 'pg_index_column_has_property', 'pg_index_has_property',
  'pg_indexam_has_property', 'to_regclass', 'to_regtype', 'to_regproc', 'to_regprocedure', 'to_regnamespace',
  'to_regrole', 'pg_get_indexdef',
];

/** Selectivity estimators an operator names (RESTRICT = eqsel, JOIN = eqjoinsel): the planner calls them to guess. */
const ESTIMATORS = [
  'eqsel', 'neqsel', 'scalarltsel', 'scalarlesel', 'scalargtsel', 'scalargesel', 'eqjoinsel', 'neqjoinsel',
  'scalarltjoinsel', 'scalarlejoinsel', 'scalargtjoinsel', 'scalargejoinsel', 'areasel', 'areajoinsel', 'contsel',
  'contjoinsel', 'positionsel', 'positionjoinsel', 'matchingsel', 'matchingjoinsel',
];

const SIDE_EFFECT_FREE: ReadonlySet<string> = new Set([
  ...AGGREGATES_AND_WINDOWS,
  ...CONDITIONALS_AND_MATH,
  ...DATES_AND_TIMES,
  ...STRINGS,
  ...JSON_FUNCTIONS,
  ...ARRAYS_AND_SETS,
  ...INTROSPECTION,
  ...ESTIMATORS,
]);

// ---- functions of the common extensions --------------------------------------------------------------------
// Functions that only compute a value from their arguments, as each extension's documentation describes them. A
// seed INSERT that builds geometries (`ST_GeomFromEWKT`, `ST_Buffer`) changes its rows and nothing else.
// Left out on purpose, because they write or reach outside the value they are given:
//   - PostGIS management: AddGeometryColumn, DropGeometryColumn, DropGeometryTable, UpdateGeometrySRID,
//     Populate_Geometry_Columns, PostGIS_Extensions_Upgrade, AddRasterConstraints, DropRasterConstraints,
//     AddOverviewConstraints, ST_CreateOverview (creates a table), ST_Retile (reads the table its argument names),
//     ST_EstimatedExtent (reads statistics), every topology function (CreateTopology, AddTopoGeometryColumn...);
//   - pg_trgm's set_limit (changes a setting for the session);
//   - setval, nextval: not an extension's, and they write a sequence (`setval` resets it: code of unknown effect,
//     reported as `run:function`, like any function not listed).

/** PostGIS: https://postgis.net/docs/reference.html (constructors, accessors, editors, inputs and outputs, spatial
 * relationships, measurement, processing, bounding boxes, linear referencing) and https://postgis.net/docs/RT_reference.html
 * (raster constructors, accessors and outputs that return a new value). */
const POSTGIS = [
  // constructors and inputs
  'st_geomfromewkt', 'st_geomfromtext', 'st_geometryfromtext', 'st_geomfromwkb', 'st_geomfromewkb', 'st_geomfromgeojson',
  'st_geomfromgml', 'st_geomfromkml', 'st_geomfromtwkb', 'st_geogfromtext', 'st_geographyfromtext', 'st_geogfromwkb',
  'st_pointfromtext', 'st_linefromtext', 'st_polygonfromtext', 'st_mpointfromtext', 'st_mlinefromtext', 'st_mpolyfromtext',
  'st_wkttosql', 'st_wkbtosql', 'st_makepoint', 'st_makepointm', 'st_point', 'st_pointz', 'st_pointm', 'st_pointzm',
  'st_makeline', 'st_makepolygon', 'st_polygon', 'st_makeenvelope', 'st_tileenvelope', 'st_makebox2d', 'st_3dmakebox',
  'st_collect', 'st_linefrommultipoint', 'st_hexagon', 'st_square', 'st_letters', 'geometry', 'geography', 'box2d', 'box3d',
  // accessors
  'st_x', 'st_y', 'st_z', 'st_m', 'st_srid', 'st_geometrytype', 'geometrytype', 'st_dimension', 'st_coorddim', 'st_ndims',
  'st_npoints', 'st_numpoints', 'st_numgeometries', 'st_geometryn', 'st_numinteriorrings', 'st_interiorringn',
  'st_exteriorring', 'st_pointn', 'st_startpoint', 'st_endpoint', 'st_boundary', 'st_envelope', 'st_isempty',
  'st_isclosed', 'st_isring', 'st_issimple', 'st_isvalid', 'st_isvalidreason', 'st_isvaliddetail', 'st_iscollection',
  'st_xmin', 'st_xmax', 'st_ymin', 'st_ymax', 'st_zmin', 'st_zmax', 'st_dump', 'st_dumppoints', 'st_dumprings',
  'st_hasarc', 'st_zmflag', 'st_memsize', 'st_summary',
  // editors (each returns a new geometry)
  'st_setsrid', 'st_transform', 'st_force2d', 'st_force3d', 'st_force3dz', 'st_force3dm', 'st_force4d', 'st_forcecollection',
  'st_forcerhr', 'st_forcepolygoncw', 'st_forcepolygonccw', 'st_multi', 'st_addpoint', 'st_removepoint', 'st_setpoint',
  'st_reverse', 'st_segmentize', 'st_snaptogrid', 'st_snap', 'st_flipcoordinates', 'st_swapordinates', 'st_normalize',
  'st_collectionextract', 'st_collectionhomogenize', 'st_curvetoline', 'st_linetocurve', 'st_translate', 'st_scale',
  'st_rotate', 'st_rotatex', 'st_rotatey', 'st_rotatez', 'st_affine', 'st_transscale',
  // outputs
  'st_astext', 'st_asewkt', 'st_asbinary', 'st_asewkb', 'st_asgeojson', 'st_asgml', 'st_askml', 'st_assvg', 'st_asmvt',
  'st_asmvtgeom', 'st_astwkb', 'st_asencodedpolyline', 'st_ashexewkb', 'st_aslatlontext', 'st_geohash', 'st_asx3d',
  'st_asflatgeobuf', 'st_asgeobuf',
  // spatial relationships
  'st_contains', 'st_containsproperly', 'st_within', 'st_intersects', 'st_disjoint', 'st_touches', 'st_crosses',
  'st_overlaps', 'st_covers', 'st_coveredby', 'st_equals', 'st_orderingequals', 'st_relate', 'st_relatematch',
  'st_dwithin', 'st_dfullywithin', 'st_3dintersects', 'st_3ddwithin', 'st_pointinsidecircle',
  // measurement
  'st_distance', 'st_distancesphere', 'st_distancespheroid', 'st_3ddistance', 'st_maxdistance', 'st_hausdorffdistance',
  'st_frechetdistance', 'st_area', 'st_length', 'st_length2d', 'st_3dlength', 'st_perimeter', 'st_azimuth', 'st_angle',
  'st_closestpoint', 'st_shortestline', 'st_longestline', 'st_project',
  // processing
  'st_buffer', 'st_intersection', 'st_difference', 'st_symdifference', 'st_union', 'st_unaryunion', 'st_memunion',
  'st_centroid', 'st_pointonsurface', 'st_convexhull', 'st_concavehull', 'st_simplify', 'st_simplifypreservetopology',
  'st_simplifyvw', 'st_chaikinsmoothing', 'st_makevalid', 'st_split', 'st_subdivide', 'st_node', 'st_linemerge',
  'st_polygonize', 'st_buildarea', 'st_delaunaytriangles', 'st_voronoipolygons', 'st_voronoilines', 'st_offsetcurve',
  'st_generatepoints', 'st_reduceprecision', 'st_expand', 'st_extent', 'st_3dextent', 'st_clusterdbscan',
  'st_clusterkmeans', 'st_clusterwithin', 'st_clusterintersecting',
  // linear referencing
  'st_lineinterpolatepoint', 'st_lineinterpolatepoints', 'st_linelocatepoint', 'st_linesubstring', 'st_locatealong',
  'st_locatebetween', 'st_addmeasure',
  // raster: made from a geometry or from nothing, read, or returned changed (a new value; nothing stored)
  'st_asraster', 'st_makeemptyraster', 'st_addband', 'st_setvalue', 'st_setvalues', 'st_value', 'st_width', 'st_height',
  'st_numbands', 'st_bandpixeltype', 'st_pixelwidth', 'st_pixelheight', 'st_upperleftx', 'st_upperlefty', 'st_scalex',
  'st_scaley', 'st_metadata', 'st_bandmetadata', 'st_georeference', 'st_rastertoworldcoord', 'st_worldtorastercoord',
  'st_convexhull', 'st_summarystats', 'st_histogram', 'st_aspng', 'st_asjpeg', 'st_astiff', 'st_asgdalraster',
  'st_fromgdalraster', 'st_clip', 'st_resample', 'st_rescale', 'st_reclass', 'st_mapalgebra', 'st_tile', 'st_pixelaspolygons',
  'st_dumpaspolygons', 'st_band', 'st_rastfromwkb', 'st_rastfromhexwkb', 'st_asbinary',
  // version strings: read only
  'postgis_version', 'postgis_full_version', 'postgis_lib_version', 'postgis_geos_version', 'postgis_proj_version',
];

/** pgcrypto: https://www.postgresql.org/docs/current/pgcrypto.html. Hashing, encryption of a value, random bytes. */
const PGCRYPTO = [
  'digest', 'hmac', 'crypt', 'gen_salt', 'gen_random_bytes', 'gen_random_uuid', 'encrypt', 'decrypt', 'encrypt_iv',
  'decrypt_iv', 'pgp_sym_encrypt', 'pgp_sym_decrypt', 'pgp_sym_encrypt_bytea', 'pgp_sym_decrypt_bytea', 'pgp_pub_encrypt',
  'pgp_pub_decrypt', 'pgp_pub_encrypt_bytea', 'pgp_pub_decrypt_bytea', 'pgp_key_id', 'armor', 'dearmor', 'pgp_armor_headers',
];

/** uuid-ossp: https://www.postgresql.org/docs/current/uuid-ossp.html. */
const UUID_OSSP = [
  'uuid_generate_v1', 'uuid_generate_v1mc', 'uuid_generate_v3', 'uuid_generate_v4', 'uuid_generate_v5', 'uuid_nil',
  'uuid_ns_dns', 'uuid_ns_url', 'uuid_ns_oid', 'uuid_ns_x500',
];

/** pg_trgm (https://www.postgresql.org/docs/current/pgtrgm.html), citext (…/citext.html), fuzzystrmatch (…/fuzzystrmatch.html). */
const TEXT_MATCHING = [
  'similarity', 'word_similarity', 'strict_word_similarity', 'show_trgm', 'show_limit', 'citext', 'citext_cmp',
  'citext_hash', 'citext_larger', 'citext_smaller', 'soundex', 'difference', 'levenshtein', 'levenshtein_less_equal',
  'metaphone', 'dmetaphone', 'dmetaphone_alt', 'daitch_mokotoff',
];

const EXTENSION_FUNCTIONS: ReadonlySet<string> = new Set([...POSTGIS, ...PGCRYPTO, ...UUID_OSSP, ...TEXT_MATCHING]);

/** Where extensions are usually installed: `public` (the default), `extensions` (Supabase's). */
const EXTENSION_SCHEMAS: ReadonlySet<string> = new Set(['public', 'extensions']);

/**
 * Whether a call of the function named `nameParts` (as the parser gives it: `['count']`, `['pg_catalog', 'now']`)
 * is known to change nothing. Built-ins by their bare name or in pg_catalog (found first whatever the search path
 * says); the common extensions' functions by their bare name or in the schema they are usually installed in. That
 * trusts that a bare `st_buffer` is PostGIS's: a function of that name created in `public` by someone else is not
 * told apart (docs/policy.md says so). A name in any other schema is someone's function, whatever it is called.
 */
export function isFreeOfSideEffects(nameParts: readonly string[]): boolean {
  if (nameParts.length === 1) return SIDE_EFFECT_FREE.has(nameParts[0]!) || EXTENSION_FUNCTIONS.has(nameParts[0]!);
  if (nameParts.length !== 2) return false;
  const [schema, name] = nameParts as [string, string];
  if (schema === 'pg_catalog') return SIDE_EFFECT_FREE.has(name);
  return EXTENSION_SCHEMAS.has(schema) && EXTENSION_FUNCTIONS.has(name);
}

/**
 * Whether a call stored to run later (a column default, a view, a check) is no code of unknown effect: a function
 * known to be free of side effects, or nextval, which moves a sequence for each new row as every serial column does.
 * Called now (`SELECT nextval('s')`), nextval still counts: it writes the sequence outside any row.
 */
export function isHarmlessWhenStored(nameParts: readonly string[]): boolean {
  if (isFreeOfSideEffects(nameParts)) return true;
  const name = nameParts.length === 2 && nameParts[0] === 'pg_catalog' ? nameParts[1] : nameParts.length === 1 ? nameParts[0] : undefined;
  return name === 'nextval';
}
