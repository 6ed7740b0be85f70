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
//   - dblink*, any extension function (uuid_generate_v4, ...): they live outside pg_catalog (see isFreeOfSideEffects).
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

/**
 * Whether a call of the function named `nameParts` (as the parser gives it: `['count']`, `['pg_catalog', 'now']`)
 * is known to change nothing. Only built-ins qualify: a name in any schema other than pg_catalog is someone's
 * function, whatever it is called.
 */
export function isFreeOfSideEffects(nameParts: readonly string[]): boolean {
  if (nameParts.length === 1) return SIDE_EFFECT_FREE.has(nameParts[0]!);
  return nameParts.length === 2 && nameParts[0] === 'pg_catalog' && SIDE_EFFECT_FREE.has(nameParts[1]!);
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
