// One small classifier per statement kind: what the statement itself does, in effects. Function calls inside a
// statement are found separately (sql-walk.ts) and added by sql.ts; so are writes nested in WITH clauses.
// A statement kind missing from CLASSIFIERS comes out as `unknown:sql` (see sql.ts): fail closed.

import type { AlterTableCmd, DefElem, Node, ObjectType, RangeVar } from 'libpg-query';
import type { Effect, ObjectKind, Verb } from '../vocabulary/effects.js';
import { bodyEffects, type BodyReader } from './sql-bodies.js';
import { reachesOutside } from './sql-extensions.js';
import { isFreeOfSideEffects } from './sql-functions.js';
import { namesAColumn, namesAColumnOfItsOwn, type StatementFacts } from './sql-walk.js';
import { kindOf, objectName, relationName, roleName, roleNames, strings, typeName } from './sql-names.js';

type NodeType = Node extends infer N ? (N extends unknown ? keyof N : never) : never;
type PayloadOf<K extends NodeType> = Extract<Node, { [P in K]: unknown }>[K];

export interface Context {
  /** What the walk found in this statement (empty when the statement is not walked, see NOT_RUN). */
  readonly facts: StatementFacts;
  /** Every effect of a statement embedded in this one (EXPLAIN ANALYZE's query, CREATE SCHEMA's elements). */
  readonly effectsOf: (statement: Node) => Effect[];
  /** Inside a function body, where a bare name may be a variable or a parameter rather than a column. */
  readonly inBody: boolean;
  /** Functions without parameters that the same SQL creates: a trigger on one of them runs a body already read. */
  readonly definedHere: ReadonlySet<string>;
  /** Reads function bodies (sql-bodies.ts) with the same analysis, one level deeper. */
  readonly bodies: BodyReader;
}

type Classifier<K extends NodeType> = (statement: PayloadOf<K>, context: Context) => Effect[];
type Classifiers = { [K in NodeType]?: Classifier<K> };

export const RUNS_CODE = 'not known to be free of side effects';
/** For a call stored to run later: reading a view, writing a row, a trigger or an operator used. */
export const RUNS_LATER = 'runs later, not known to be free of side effects';

const effect = (verb: Verb, object: ObjectKind, name?: string, ...details: Array<string | false | undefined>): Effect => {
  const detail = details.filter(Boolean).join(', ');
  return { verb, object, ...(name ? { name } : {}), ...(detail ? { detail } : {}) };
};

const cascade = (behavior: string | undefined) => behavior === 'DROP_CASCADE' && 'CASCADE';

/** `AT_EnableRowSecurity` → `enable row security`: enum names as short words for details. */
const words = (enumName: string) =>
  enumName
    .replace(/^[A-Z]+_/, '')
    .replace(/([a-z])([A-Z])/g, '$1 $2')
    .toLowerCase();

/** A WHERE that names no column is true for every row or for none: `WHERE true`, `WHERE 1 = 1`. */
const touchesEveryRow = (where: Node | undefined, facts: StatementFacts) => !namesAColumn(facts, where);

const onTable = (name: string | undefined, table: RangeVar | undefined) => `${name ?? '?'} on ${relationName(table)}`;

/** The parts of a statement PostgreSQL stores rather than runs: function calls there do not run now. */
export const NOT_RUN: Partial<Record<NodeType, ReadonlySet<string> | 'all'>> = {
  ViewStmt: new Set(['query']),
  CreateFunctionStmt: 'all',
  RuleStmt: 'all',
  CreateTrigStmt: 'all',
  // Column defaults, checks and generated columns run for rows inserted later; a partition bound runs now.
  CreateStmt: new Set(['tableElts', 'constraints', 'partspec']),
  CreateDomainStmt: new Set(['constraints']),
  CreatePolicyStmt: new Set(['qual', 'with_check']),
  AlterPolicyStmt: new Set(['qual', 'with_check']),
  // These classify their embedded statement fully (walk included) through context.effectsOf.
  ExplainStmt: 'all',
  DeclareCursorStmt: 'all',
  PrepareStmt: 'all',
  CopyStmt: new Set(['query']),
  CreateSchemaStmt: new Set(['schemaElts']),
};

/**
 * The stored parts whose function calls run later, each time the object is used (sql.ts reports them as
 * `run:function`, RUNS_LATER): reading the view, writing a row, a trigger firing, a policy checking a row.
 */
export const STORED: Partial<Record<NodeType, readonly string[]>> = {
  ViewStmt: ['query'],
  CreateStmt: ['tableElts', 'constraints', 'partspec'],
  CreateDomainStmt: ['constraints'],
  CreatePolicyStmt: ['qual', 'with_check'],
  AlterPolicyStmt: ['qual', 'with_check'],
  CreateTrigStmt: ['whenClause'],
  RuleStmt: ['whereClause'],
};

// ---- reading and writing rows ------------------------------------------------------------------------------

const select: Classifier<'SelectStmt'> = (statement, { facts, inBody }) => {
  if (statement.intoClause) return [effect('add', 'table', relationName(statement.intoClause.rel), 'SELECT INTO')];
  const locks = statement.lockingClause?.length ? 'locks rows' : undefined;
  // A column named with no FROM to take it from cannot run: `SELECT truncate_all_tables` is most likely a function
  // call typed without its parentheses, and what that function would do is not known. In a function body such a
  // name is a variable or a parameter (`PERFORM notify(user_id)`).
  if (!statement.fromClause?.length && !inBody && statement.targetList && namesAColumnOfItsOwn(statement.targetList)) {
    return [effect('unknown', 'sql', undefined, 'names a column without FROM: perhaps a function call without its ()')];
  }
  // `SELECT 1` reads nothing named; `SELECT truncate_all_tables()` is its run:function alone.
  if (facts.relations.size === 0) return facts.calls.size ? [] : [effect('read', 'sql', undefined, locks)];
  return [...facts.relations].map((name) => effect('read', 'table', name, locks));
};

const insert: Classifier<'InsertStmt'> = (statement) => {
  const table = relationName(statement.relation);
  const upsert = statement.onConflictClause?.action === 'ONCONFLICT_UPDATE';
  return [effect('add', 'rows', table), ...(upsert ? [effect('rewrite', 'rows', table, 'ON CONFLICT DO UPDATE')] : [])];
};

const update: Classifier<'UpdateStmt'> = (statement, { facts }) =>
  touchesEveryRow(statement.whereClause, facts)
    ? [effect('rewrite', 'all_rows', relationName(statement.relation), 'every row')]
    : [effect('rewrite', 'rows', relationName(statement.relation))];

const remove: Classifier<'DeleteStmt'> = (statement, { facts }) =>
  touchesEveryRow(statement.whereClause, facts)
    ? [effect('delete', 'all_rows', relationName(statement.relation), 'every row')]
    : [effect('delete', 'rows', relationName(statement.relation))];

const MERGE_VERBS: Record<string, Verb> = { CMD_INSERT: 'add', CMD_UPDATE: 'rewrite', CMD_DELETE: 'delete' };

const merge: Classifier<'MergeStmt'> = (statement) =>
  (statement.mergeWhenClauses ?? []).flatMap((clause) => {
    const verb = 'MergeWhenClause' in clause ? MERGE_VERBS[clause.MergeWhenClause.commandType ?? ''] : undefined;
    return verb ? [effect(verb, 'rows', relationName(statement.relation), 'MERGE')] : [];
  });

const truncate: Classifier<'TruncateStmt'> = (statement) =>
  (statement.relations ?? []).map((node) =>
    effect('delete', 'all_rows', objectName(node), 'every row', cascade(statement.behavior), statement.restart_seqs && 'RESTART IDENTITY'),
  );

const copy: Classifier<'CopyStmt'> = (statement, { effectsOf }) => {
  // The command line is a literal and may carry a secret (`curl -H "Authorization: …"`): named, never quoted. A file
  // is the server's own: COPY TO overwrites it (pg_hba.conf, even in a read-only transaction), COPY FROM reads it
  // (the server's key) into a table the API may serve. Both are what pg_read_file and pg_write_file do: code run.
  const program = statement.is_program
    ? [effect('run', 'function', 'COPY PROGRAM', 'shell command on the database server')]
    : statement.filename
      ? [effect('run', 'function', statement.is_from ? 'COPY FROM FILE' : 'COPY TO FILE', `${statement.is_from ? 'reads' : 'writes'} a file on the database server`)]
      : [];
  if (statement.is_from) return [effect('add', 'rows', relationName(statement.relation), 'COPY FROM'), ...program];
  const source = statement.query ? effectsOf(statement.query) : [effect('read', 'table', relationName(statement.relation), 'COPY TO')];
  return [...source, ...program];
};

// ---- dropping, creating, altering objects ------------------------------------------------------------------

const drop: Classifier<'DropStmt'> = (statement) => {
  const { object, kindWords } = kindOf(statement.removeType);
  return (statement.objects ?? []).map((node) =>
    effect('drop', object, objectName(node, statement.removeType), kindWords, cascade(statement.behavior)),
  );
};

/** ADD and DROP COLUMN, ALTER COLUMN TYPE, constraints: the subcommands whose effect is not an in-place change. */
function alterTableCommand(table: string, kind: ObjectKind, command: AlterTableCmd): Effect {
  const column = `${table}.${command.name ?? '?'}`;
  switch (command.subtype) {
    case 'AT_AddColumn':
    case 'AT_AddColumnToView': {
      const definition = command.def && 'ColumnDef' in command.def ? command.def.ColumnDef : undefined;
      return effect('add', 'column', `${table}.${definition?.colname ?? '?'}`);
    }
    case 'AT_DropColumn':
      return effect('drop', 'column', column, cascade(command.behavior));
    case 'AT_AlterColumnType': {
      const definition = command.def && 'ColumnDef' in command.def ? command.def.ColumnDef : undefined;
      return effect('rewrite', 'column', column, `type ${typeName(definition?.typeName?.names)}`);
    }
    case 'AT_ColumnDefault':
    case 'AT_DropNotNull':
    case 'AT_SetNotNull':
    case 'AT_SetExpression':
    case 'AT_DropExpression':
    case 'AT_SetStatistics':
    case 'AT_SetOptions':
    case 'AT_ResetOptions':
    case 'AT_SetStorage':
    case 'AT_SetCompression':
    case 'AT_AddIdentity':
    case 'AT_SetIdentity':
    case 'AT_DropIdentity':
    case 'AT_AlterColumnGenericOptions':
      return effect('modify', 'column', column, words(command.subtype));
    case 'AT_AddConstraint':
    case 'AT_AddIndexConstraint':
    case 'AT_AddIndex': {
      const constraint = command.def && 'Constraint' in command.def ? command.def.Constraint : undefined;
      const name = constraint?.conname ?? (constraint?.contype ? words(constraint.contype) : undefined);
      return effect('add', 'constraint', `${name ?? '?'} on ${table}`);
    }
    case 'AT_DropConstraint':
      return effect('drop', 'constraint', `${command.name ?? '?'} on ${table}`, cascade(command.behavior));
    case 'AT_AlterConstraint':
    case 'AT_ValidateConstraint':
      return effect('modify', 'constraint', `${command.name ?? '?'} on ${table}`, words(command.subtype));
    case 'AT_ChangeOwner':
      return effect('modify', kind, table, `owner to ${roleName(command.newowner)}`);
    default:
      // Every other subcommand (triggers, rules, row-level security, replica identity, storage, tablespace,
      // inheritance, partitions, options) changes the table's definition in place and deletes no stored data.
      return effect('modify', kind, table, words(command.subtype ?? 'unknown'), command.name);
  }
}

const alterTable: Classifier<'AlterTableStmt'> = (statement) => {
  const { object, kindWords } = kindOf(statement.objtype);
  const table = relationName(statement.relation);
  return (statement.cmds ?? []).map((node) =>
    'AlterTableCmd' in node ? alterTableCommand(table, object, node.AlterTableCmd) : effect('unknown', 'sql', table, kindWords),
  );
};

const ON_TABLE_KINDS: ReadonlySet<ObjectType> = new Set(['OBJECT_TABCONSTRAINT', 'OBJECT_TRIGGER', 'OBJECT_POLICY', 'OBJECT_RULE']);

const rename: Classifier<'RenameStmt'> = (statement) => {
  const { object, kindWords } = kindOf(statement.renameType);
  let name: string;
  if (statement.relation && statement.subname) {
    name = statement.renameType && ON_TABLE_KINDS.has(statement.renameType)
      ? onTable(statement.subname, statement.relation)
      : `${relationName(statement.relation)}.${statement.subname}`;
  } else if (statement.relation) name = relationName(statement.relation);
  else if (statement.object) name = objectName(statement.object, statement.renameType);
  else name = statement.subname ?? '?'; // schemas, databases, roles, tablespaces
  return [effect('rename', object, name, kindWords, `to ${statement.newname ?? '?'}`)];
};

/** ALTER ... SET SCHEMA and ALTER ... OWNER TO: the object stays, its definition changes. */
const alterObject =
  (detailOf: (statement: { newschema?: string; newowner?: Parameters<typeof roleName>[0] }) => string) =>
  (statement: { objectType?: ObjectType; relation?: RangeVar; object?: Node; newschema?: string; newowner?: Parameters<typeof roleName>[0] }) => {
    const { object, kindWords } = kindOf(statement.objectType);
    const name = statement.relation ? relationName(statement.relation) : objectName(statement.object, statement.objectType);
    return [effect('modify', object, name, kindWords, detailOf(statement))];
  };

const create =
  <K extends NodeType>(object: ObjectKind, nameOf: (statement: PayloadOf<K>) => string, detailOf?: (statement: PayloadOf<K>) => string | false | undefined): Classifier<K> =>
  (statement) => [effect('add', object, nameOf(statement), detailOf?.(statement))];

/** An extension that reaches outside the database (dblink, plpython3u...) widens what SQL can do: a grant. */
const createExtension: Classifier<'CreateExtensionStmt'> = (statement) => {
  const name = statement.extname ?? '?';
  const why = reachesOutside(name);
  return [why ? effect('grant', 'extension', name, why) : effect('add', 'extension', name)];
};

/** CREATE OR REPLACE silently overwrites what exists: `replace`, not `add`. */
const createOrReplace = (replace: boolean | undefined, object: ObjectKind, name: string, ...details: Array<string | false | undefined>) =>
  [effect(replace ? 'replace' : 'add', object, name, ...details)];

/** Options of CREATE OPERATOR / AGGREGATE / TYPE / TEXT SEARCH PARSER or TEMPLATE that name a function it will call. */
const FUNCTION_OPTIONS: ReadonlySet<string> = new Set([
  'function', 'procedure', 'restrict', 'join', // operator
  'sfunc', 'finalfunc', 'combinefunc', 'serialfunc', 'deserialfunc', 'msfunc', 'minvfunc', 'mfinalfunc', // aggregate
  'input', 'output', 'receive', 'send', 'typmod_in', 'typmod_out', 'analyze', 'subscript', // base type
  'start', 'gettoken', 'end', 'headline', 'lextypes', 'init', 'lexize', // text search parser, template
]);
const CALLS_FUNCTIONS: ReadonlySet<ObjectType> = new Set(['OBJECT_OPERATOR', 'OBJECT_AGGREGATE', 'OBJECT_TYPE', 'OBJECT_TSPARSER', 'OBJECT_TSTEMPLATE']);

const define: Classifier<'DefineStmt'> = (statement) => {
  const { object, kindWords } = kindOf(statement.kind);
  const name = strings(statement.defnames).join('.');
  const functions = CALLS_FUNCTIONS.has(statement.kind!)
    ? (statement.definition ?? []).flatMap((node) => ('DefElem' in node && FUNCTION_OPTIONS.has(node.DefElem.defname ?? '') ? [functionNamed(node.DefElem)] : []))
    : [];
  return [...createOrReplace(statement.replace, object, name, kindWords), ...callsLater(functions, `${kindWords ?? object} ${name}`)];
};

/** `FUNCTION = s.f` comes as a type name; `HANDLER h` as a list of names. */
function functionNamed(option: DefElem): string[] {
  const arg = option.arg;
  if (!arg) return ['?'];
  if ('TypeName' in arg) return strings(arg.TypeName.names);
  if ('List' in arg) return strings(arg.List.items);
  if ('String' in arg) return [arg.String.sval ?? '?'];
  return ['?'];
}

/**
 * A range type calls its `subtype_diff` (for every GiST index entry) and `canonical` functions; an operator class
 * or family its support functions (`FUNCTION 1 f(…)`, for every row an index over it sees).
 */
const RANGE_FUNCTIONS: ReadonlySet<string> = new Set(['subtype_diff', 'canonical']);
const OPCLASS_ITEM_FUNCTION = 2; // PostgreSQL's parsenodes.h

const rangeFunctions = (params: Node[] | undefined) =>
  (params ?? []).flatMap((node) => ('DefElem' in node && RANGE_FUNCTIONS.has(node.DefElem.defname ?? '') ? [functionNamed(node.DefElem)] : []));

const supportFunctions = (items: Node[] | undefined) =>
  (items ?? []).flatMap((node) =>
    'CreateOpClassItem' in node && node.CreateOpClassItem.itemtype === OPCLASS_ITEM_FUNCTION ? [strings(node.CreateOpClassItem.name?.objname)] : [],
  );

/**
 * A foreign table of file_fdw runs a shell command (`program`) or reads a server file (`filename`) each time it is
 * read, as COPY FROM PROGRAM or pg_read_file do. Options by name, never their values (a command may carry a secret).
 */
const FOREIGN_OPTIONS_THAT_RUN: Readonly<Record<string, string>> = {
  program: 'shell command on the database server, run each time the table is read',
  filename: 'reads a file on the database server each time the table is read',
};

function foreignOptionsThatRun(options: Node[] | undefined, name: string): Effect[] {
  return (options ?? []).flatMap((node) => {
    const option = 'DefElem' in node ? (node.DefElem.defname ?? '') : '';
    const why = Object.hasOwn(FOREIGN_OPTIONS_THAT_RUN, option) ? FOREIGN_OPTIONS_THAT_RUN[option] : undefined;
    return why ? [effect('run', 'function', `foreign table ${name} (${option})`, why)] : [];
  });
}

const createForeignTable: Classifier<'CreateForeignTableStmt'> = (statement) => {
  const name = relationName(statement.base?.relation);
  return [effect('add', 'table', name, 'foreign'), ...foreignOptionsThatRun(statement.options, name)];
};

/**
 * Logical replication: a subscription lets another server insert, update, delete and truncate this database's tables
 * from then on; a publication lets subscribers read them. Each widens who writes or reads the data: a grant.
 */
const replication = (kind: 'subscription' | 'publication', verbWord: string) => () => [
  effect('grant', 'unknown', undefined, kind, kind === 'subscription' ? `${verbWord}: another server writes this database's tables` : `${verbWord}: subscribers read the tables it lists`),
];

/**
 * An object that runs functions implicitly (an operator when used, a cast when applied, an event trigger on every
 * DDL): each function not known to be free of side effects counts as run. The guard cannot tell which overload of
 * a name an operator or a cast resolves to, so a function created in the same SQL counts too.
 */
function callsLater(functions: ReadonlyArray<readonly string[]>, by: string): Effect[] {
  return functions.filter((name) => !isFreeOfSideEffects(name)).map((name) => effect('run', 'function', name.join('.'), `by ${by}`, RUNS_LATER));
}

const createSchema: Classifier<'CreateSchemaStmt'> = (statement, { effectsOf }) => [
  effect('add', 'schema', statement.schemaname ?? roleName(statement.authrole)),
  ...(statement.schemaElts ?? []).flatMap(effectsOf),
];

const createTableAs: Classifier<'CreateTableAsStmt'> = (statement) => {
  const { object, kindWords } = kindOf(statement.objtype);
  return [effect('add', object, relationName(statement.into?.rel), kindWords, statement.into?.skipData && 'WITH NO DATA')];
};

/**
 * A row-level security policy decides who sees and writes which rows: a permissive one widens access (`USING
 * (true)` opens every row), a restrictive one narrows it. Both need a confirmation, as Hasura permissions do.
 */
const createPolicy: Classifier<'CreatePolicyStmt'> = (statement) => [
  effect(
    statement.permissive ? 'grant' : 'revoke', // the tree leaves `permissive` out for AS RESTRICTIVE
    'policy',
    onTable(statement.policy_name, statement.table),
    statement.permissive ? 'permissive' : 'restrictive',
    `for ${(statement.cmd_name ?? 'all').toUpperCase()}`,
    statement.roles?.length ? `to ${roleNames(statement.roles)}` : undefined,
  ),
];

// ---- privileges and roles ----------------------------------------------------------------------------------

const grant: Classifier<'GrantStmt'> = (statement) => {
  const { object, kindWords } = kindOf(statement.objtype);
  const privileges = (statement.privileges ?? [])
    .map((node) => ('AccessPriv' in node ? accessPrivilege(node.AccessPriv) : '?'))
    .join(', ') || 'ALL';
  const on = object === 'table' ? '' : ` on ${kindWords ?? object}`;
  const who = `${statement.is_grant ? 'to' : 'from'} ${roleNames(statement.grantees)}`;
  const names =
    statement.targtype === 'ACL_TARGET_ALL_IN_SCHEMA'
      ? (statement.objects ?? []).map((node) => `all ${kindWords ?? object}s in schema ${objectName(node)}`)
      : (statement.objects ?? []).map((node) => objectName(node, statement.objtype));
  return names.map((name) =>
    effect(statement.is_grant ? 'grant' : 'revoke', 'privilege', name, `${privileges}${on} ${who}`, statement.grant_option && 'WITH GRANT OPTION', cascade(statement.behavior)),
  );
};

function accessPrivilege(privilege: { priv_name?: string; cols?: Node[] }): string {
  const name = (privilege.priv_name ?? 'all').toUpperCase();
  return privilege.cols?.length ? `${name} (${strings(privilege.cols).join(', ')})` : name;
}

/** ALTER DEFAULT PRIVILEGES: a grant on objects not created yet, named `future tables in schema public`. */
const alterDefaultPrivileges: Classifier<'AlterDefaultPrivilegesStmt'> = (statement, context) => {
  if (!statement.action) return [effect('unknown', 'sql', undefined, 'AlterDefaultPrivilegesStmt')];
  const { object, kindWords } = kindOf(statement.action.objtype);
  const schemas = (statement.options ?? []).flatMap((node) =>
    'DefElem' in node && node.DefElem.defname === 'schemas' && node.DefElem.arg && 'List' in node.DefElem.arg ? strings(node.DefElem.arg.List.items) : [],
  );
  const name = `future ${kindWords ?? object}s${schemas.length ? ` in schema ${schemas.join(', ')}` : ''}`;
  return grant({ ...statement.action, objtype: 'OBJECT_TABLE', objects: [{ String: { sval: name } }] }, context);
};

const grantRole: Classifier<'GrantRoleStmt'> = (statement) => [
  effect(statement.is_grant ? 'grant' : 'revoke', 'role', roleNames(statement.granted_roles), `${statement.is_grant ? 'to' : 'from'} ${roleNames(statement.grantee_roles)}`),
];

/** Role options as SQL spells them; the grammar's names for them in libpg-query's tree (gram.y, CreateOptRoleElem). */
const ROLE_OPTIONS: Readonly<Record<string, string>> = {
  superuser: 'SUPERUSER',
  createrole: 'CREATEROLE',
  createdb: 'CREATEDB',
  canlogin: 'LOGIN',
  isreplication: 'REPLICATION',
  bypassrls: 'BYPASSRLS',
  inherit: 'INHERIT',
  addroleto: 'IN ROLE',
  rolemembers: 'ROLE',
  adminmembers: 'ADMIN',
  password: 'PASSWORD',
  validUntil: 'VALID UNTIL',
  connectionlimit: 'CONNECTION LIMIT',
  sysid: 'SYSID',
};

/** Options that give a role more than a name: attributes that widen what it may do, and memberships. */
const WIDENING: ReadonlySet<string> = new Set(['superuser', 'createrole', 'createdb', 'canlogin', 'isreplication', 'bypassrls', 'inherit', 'addroleto', 'rolemembers', 'adminmembers']);

/**
 * Role options by name, with the roles a membership names; never a value: `PASSWORD 'x'` or `VALID UNTIL '…'` must
 * not put a literal in a message. `NOSUPERUSER` and the like say NO.
 */
function roleOptions(options: Node[] | undefined): { words?: string; widens: boolean } {
  let widens = false;
  const words = (options ?? []).flatMap((node) => {
    if (!('DefElem' in node)) return [];
    const { defname = '?', arg } = node.DefElem;
    const word = ROLE_OPTIONS[defname] ?? defname;
    if (arg && 'Boolean' in arg) {
      if (arg.Boolean.boolval && WIDENING.has(defname)) widens = true;
      return [arg.Boolean.boolval ? word : `NO${word}`];
    }
    if (WIDENING.has(defname)) widens = true;
    return [arg && 'List' in arg && WIDENING.has(defname) ? `${word} ${roleNames(arg.List.items)}` : word];
  });
  return { words: words.join(', ') || undefined, widens };
}

/** CREATE USER logs in by default; CREATE ROLE and CREATE GROUP do not. A role that can do more than exist widens access. */
const createRole: Classifier<'CreateRoleStmt'> = (statement) => {
  const { words, widens } = roleOptions(statement.options);
  const user = statement.stmt_type === 'ROLESTMT_USER' && !(statement.options ?? []).some((node) => 'DefElem' in node && node.DefElem.defname === 'canlogin');
  const detail = [user && 'LOGIN', words];
  return [effect(widens || user ? 'grant' : 'add', 'role', statement.role ?? '?', ...detail)];
};

const alterRole: Classifier<'AlterRoleStmt'> = (statement) => {
  const { words, widens } = roleOptions(statement.options);
  return [effect(widens ? 'grant' : 'modify', 'role', roleName(statement.role), words)];
};

// ---- sessions, code, maintenance ---------------------------------------------------------------------------

/**
 * Settings the console sends as routine and that only shape this request: timeouts make it give up sooner, the
 * others change how values are shown. `search_path` is not one of them: it decides which function a bare name
 * calls, and the catalogue of side-effect-free functions relies on pg_catalog's being found first. `role` and
 * `session_authorization` change privileges.
 */
const ROUTINE_SETTINGS: ReadonlySet<string> = new Set([
  'statement_timeout',
  'lock_timeout',
  'idle_in_transaction_session_timeout',
  'transaction_timeout',
  'application_name',
  'client_min_messages',
  'datestyle',
  'timezone',
  'intervalstyle',
  'extra_float_digits',
]);

const setting: Classifier<'VariableSetStmt'> = (statement) => {
  const name = statement.kind === 'VAR_RESET_ALL' ? 'all' : (statement.name ?? '?');
  const how = statement.kind === 'VAR_RESET' || statement.kind === 'VAR_RESET_ALL' ? 'RESET' : statement.is_local ? 'SET LOCAL' : 'SET';
  const verb = ROUTINE_SETTINGS.has(name.toLowerCase()) ? 'read' : 'modify';
  // The setting by name, never its value: `SET app.key = 'sk_live_…'` is how secrets reach a session.
  return [effect(verb, 'setting', name, how)];
};

const explain: Classifier<'ExplainStmt'> = (statement, { effectsOf }) => {
  const analyzes = (statement.options ?? []).some((node) => 'DefElem' in node && node.DefElem.defname === 'analyze' && !isFalse(node.DefElem.arg));
  // EXPLAIN ANALYZE runs the query, with every effect. Plain EXPLAIN writes nothing, but the planner evaluates
  // immutable calls with constant arguments and stable ones to estimate rows: a function whose volatility the guard
  // cannot know may run, so its calls count.
  if (analyzes && statement.query) return effectsOf(statement.query);
  const calls = statement.query ? effectsOf(statement.query).filter((found) => found.verb === 'run') : [];
  return [effect('read', 'sql', undefined, 'EXPLAIN'), ...calls];
};

/** `ANALYZE false`, `ANALYZE off`, `ANALYZE 0`; anything else (no value, or one not understood) counts as true. */
function isFalse(arg: Node | undefined): boolean {
  if (!arg) return false;
  const text = 'String' in arg ? arg.String.sval : 'Boolean' in arg ? String(arg.Boolean.boolval ?? false) : 'Integer' in arg ? String(arg.Integer.ival ?? 0) : undefined;
  return text !== undefined && ['false', 'off', '0', 'no'].includes(text.toLowerCase());
}

const LOCK_MODES = ['', 'ACCESS SHARE', 'ROW SHARE', 'ROW EXCLUSIVE', 'SHARE UPDATE EXCLUSIVE', 'SHARE', 'SHARE ROW EXCLUSIVE', 'EXCLUSIVE', 'ACCESS EXCLUSIVE'];

/** LOCK changes no data, but holds the table until the transaction ends: writers (or everyone) wait. */
const lock: Classifier<'LockStmt'> = (statement) =>
  (statement.relations ?? []).map((node) => effect('modify', 'table', objectName(node), `LOCK ${LOCK_MODES[statement.mode ?? 8] ?? 'ACCESS EXCLUSIVE'}`));

/**
 * VACUUM and ANALYZE change no row and no definition (PostgreSQL runs them in a read-only transaction): read.
 * VACUUM FULL rewrites the table under an exclusive lock: modify.
 */
const vacuum: Classifier<'VacuumStmt'> = (statement) => {
  const full = (statement.options ?? []).some((node) => 'DefElem' in node && node.DefElem.defname === 'full' && !isFalse(node.DefElem.arg));
  const what = statement.is_vacuumcmd ? (full ? 'VACUUM FULL' : 'VACUUM') : 'ANALYZE';
  const tables = (statement.rels ?? []).map((node) => ('VacuumRelation' in node ? relationName(node.VacuumRelation.relation) : '?'));
  return (tables.length ? tables : [undefined]).map((name) => effect(full ? 'modify' : 'read', 'table', name, what, !name && 'every table'));
};

const runs = (name: string, ...details: string[]) => [effect('run', 'function', name, ...details, RUNS_CODE)];

// ---- code: functions and the objects that run them ----------------------------------------------------------

/** `drop:table patients (in function f)`: an effect of a body, said as such (a bare `read:sql` says nothing there). */
const inside = (effects: readonly Effect[], where: string): Effect[] =>
  effects
    .filter((found) => !(found.verb === 'read' && found.object === 'sql' && !found.name))
    .map((found) => ({ ...found, detail: found.detail ? `${found.detail}, ${where}` : where }));

/**
 * Creating a function carries what its body does (sql-bodies.ts): a view, a trigger, a default or a plain SELECT
 * can run it in the same request. SECURITY DEFINER makes it run with its owner's rights for every caller (and
 * PUBLIC may call a new function): it widens access.
 */
const createFunction: Classifier<'CreateFunctionStmt'> = (statement, { bodies }) => {
  const name = strings(statement.funcname).join('.');
  const definer = (statement.options ?? []).some(
    (node) => 'DefElem' in node && node.DefElem.defname === 'security' && node.DefElem.arg !== undefined && 'Boolean' in node.DefElem.arg && node.DefElem.arg.Boolean.boolval === true,
  );
  return [
    ...createOrReplace(statement.replace, 'function', name, statement.is_procedure && 'procedure'),
    ...(definer ? [effect('grant', 'function', name, "SECURITY DEFINER: runs with its owner's rights for whoever may call it")] : []),
    ...inside(bodyEffects(statement, bodies), `in ${statement.is_procedure ? 'procedure' : 'function'} ${name}`),
  ];
};

/**
 * A trigger runs its function on every write of the table. Routine only when the same SQL creates that function
 * without parameters (its body was read where it is created, as the console does for `updated_at` columns);
 * otherwise the function's effect is not known. Its WHEN condition is a stored expression (STORED).
 */
const createTrigger: Classifier<'CreateTrigStmt'> = (statement, { definedHere }) => {
  const name = onTable(statement.trigname, statement.relation);
  const fn = strings(statement.funcname);
  const known = definedHere.has(fn.join('.')) || isFreeOfSideEffects(fn);
  return [...createOrReplace(statement.replace, 'trigger', name), ...(known ? [] : callsLater([fn], `trigger ${name}`))];
};

const RULE_EVENTS: Readonly<Record<string, string>> = { CMD_SELECT: 'SELECT', CMD_UPDATE: 'UPDATE', CMD_INSERT: 'INSERT', CMD_DELETE: 'DELETE' };

/**
 * A rule rewrites every later query of its kind on the table: its actions run with each one, so they carry their
 * effects (`DO ALSO DELETE FROM patients` deletes); DO INSTEAD replaces what the query did (an INSERT silently
 * discarded is lost data): the table's behaviour is modified.
 */
const createRule: Classifier<'RuleStmt'> = (statement, { effectsOf }) => {
  const name = onTable(statement.rulename, statement.relation);
  const event = RULE_EVENTS[statement.event ?? ''] ?? '?';
  return [
    ...createOrReplace(statement.replace, 'unknown', name, 'rule'),
    ...(statement.instead ? [effect('modify', 'table', relationName(statement.relation), `rule ${statement.rulename ?? '?'} replaces each ${event}`)] : []),
    ...inside((statement.actions ?? []).flatMap(effectsOf), `in rule ${name}`),
  ];
};

/** An event trigger runs its function on DDL of everyone in the database, and can refuse it: never routine. */
const createEventTrigger: Classifier<'CreateEventTrigStmt'> = (statement) => {
  const fn = strings(statement.funcname).join('.');
  return [
    effect('add', 'unknown', statement.trigname, 'event trigger'),
    effect('run', 'function', fn, `by event trigger ${statement.trigname ?? '?'} on every ${statement.eventname ?? '?'}`, RUNS_LATER),
  ];
};

/** A user mapping lends stored credentials of another server to a role: it widens what that role can reach. */
const createUserMapping: Classifier<'CreateUserMappingStmt'> = (statement) => [
  effect('grant', 'unknown', `for ${roleName(statement.user)} on server ${statement.servername ?? '?'}`, 'user mapping'),
];

const withArgs = (func: { objname?: Node[] } | undefined) => (func ? [strings(func.objname)] : []);
const objectCalling = (kind: string, name: string | undefined, functions: ReadonlyArray<readonly string[]>): Effect[] => [
  effect('add', 'unknown', name, kind),
  ...callsLater(functions, name ? `${kind} ${name}` : kind),
];

// ---- the map -----------------------------------------------------------------------------------------------

export const CLASSIFIERS: Classifiers = {
  SelectStmt: select,
  InsertStmt: insert,
  UpdateStmt: update,
  DeleteStmt: remove,
  MergeStmt: merge,
  TruncateStmt: truncate,
  CopyStmt: copy,

  DropStmt: drop,
  DropdbStmt: (statement) => [effect('drop', 'database', statement.dbname)],
  DropOwnedStmt: (statement) => [effect('drop', 'owned', roleNames(statement.roles), cascade(statement.behavior))],
  ReassignOwnedStmt: (statement) => [effect('modify', 'owned', roleNames(statement.roles), `to ${roleName(statement.newrole)}`)],
  DropRoleStmt: (statement) => (statement.roles ?? []).map((node) => effect('drop', 'role', objectName(node))),

  AlterTableStmt: alterTable,
  RenameStmt: rename,
  AlterObjectSchemaStmt: alterObject((statement) => `set schema ${statement.newschema ?? '?'}`),
  AlterOwnerStmt: alterObject((statement) => `owner to ${roleName(statement.newowner)}`),
  AlterFunctionStmt: (statement) => [effect('modify', 'function', objectName(statement.func ? { ObjectWithArgs: statement.func } : undefined))],
  AlterSeqStmt: (statement) => [effect('modify', 'sequence', relationName(statement.sequence))],
  AlterEnumStmt: (statement) => [effect('modify', 'type', typeName(statement.typeName), statement.newVal && `value ${statement.newVal}`)],
  AlterDomainStmt: (statement) =>
    statement.subtype === 'X'
      ? [effect('drop', 'constraint', `${statement.name ?? '?'} on ${typeName(statement.typeName)}`, cascade(statement.behavior))]
      : [effect('modify', 'type', typeName(statement.typeName), 'domain')],
  AlterTypeStmt: (statement) => [effect('modify', 'type', typeName(statement.typeName))],
  AlterExtensionStmt: (statement) => [effect('modify', 'extension', statement.extname)],
  AlterExtensionContentsStmt: (statement) => [effect('modify', 'extension', statement.extname)],
  // A changed condition may open rows as much as a new policy does.
  AlterPolicyStmt: (statement) => [effect('grant', 'policy', onTable(statement.policy_name, statement.table), 'changed')],
  AlterRoleStmt: alterRole,
  AlterRoleSetStmt: (statement) => [effect('modify', 'role', statement.role ? roleName(statement.role) : 'ALL', statement.setstmt?.name && `setting ${statement.setstmt.name}`)],
  AlterDatabaseStmt: (statement) => [effect('modify', 'database', statement.dbname)],
  AlterDatabaseSetStmt: (statement) => [effect('modify', 'database', statement.dbname, statement.setstmt?.name && `setting ${statement.setstmt.name}`)],
  RefreshMatViewStmt: (statement) => [effect('modify', 'materialized_view', relationName(statement.relation), 'REFRESH')],
  ClusterStmt: (statement) => [effect('modify', 'table', statement.relation ? relationName(statement.relation) : undefined, 'CLUSTER')],
  ReindexStmt: (statement) => [effect('modify', 'index', statement.relation ? relationName(statement.relation) : statement.name, 'REINDEX')],
  LockStmt: lock,
  VacuumStmt: vacuum,

  CreateStmt: create('table', (statement) => relationName(statement.relation), (statement) => statement.relation?.relpersistence === 't' && 'temporary'),
  CreateForeignTableStmt: createForeignTable,
  CreateTableAsStmt: createTableAs,
  IndexStmt: create('index', (statement) => statement.idxname ?? 'unnamed', (statement) => `on ${relationName(statement.relation)}`),
  CreateSeqStmt: create('sequence', (statement) => relationName(statement.sequence)),
  CreateSchemaStmt: createSchema,
  CreateExtensionStmt: createExtension,
  CompositeTypeStmt: create('type', (statement) => relationName(statement.typevar)),
  CreateEnumStmt: create('type', (statement) => typeName(statement.typeName), () => 'enum'),
  CreateRangeStmt: (statement) => {
    const name = typeName(statement.typeName);
    return [effect('add', 'type', name, 'range'), ...callsLater(rangeFunctions(statement.params), `range type ${name}`)];
  },
  CreateOpClassStmt: (statement) => objectCalling('operator class', strings(statement.opclassname).join('.'), supportFunctions(statement.items)),
  AlterOpFamilyStmt: (statement) => [
    effect('modify', 'unknown', strings(statement.opfamilyname).join('.'), 'operator family'),
    ...(statement.isDrop ? [] : callsLater(supportFunctions(statement.items), `operator family ${strings(statement.opfamilyname).join('.')}`)),
  ],
  CreatePublicationStmt: replication('publication', 'CREATE PUBLICATION'),
  AlterPublicationStmt: replication('publication', 'ALTER PUBLICATION'),
  CreateSubscriptionStmt: replication('subscription', 'CREATE SUBSCRIPTION'),
  AlterSubscriptionStmt: replication('subscription', 'ALTER SUBSCRIPTION'),
  // A label is an access rule to the provider that reads it: sepgsql's mandatory access control, PostgreSQL
  // Anonymizer's masking (`IS NULL` unmasks a column), pgsodium's column encryption. Not a comment.
  SecLabelStmt: (statement) => [effect('modify', 'unknown', undefined, `security label${statement.provider ? ` for ${statement.provider}` : ''}`)],
  CreateDomainStmt: create('type', (statement) => typeName(statement.domainname), () => 'domain'),
  CreatePolicyStmt: createPolicy,
  CreateRoleStmt: createRole,
  CreatedbStmt: create('database', (statement) => statement.dbname ?? '?'),
  CreateFunctionStmt: createFunction,
  ReturnStmt: () => [], // only in a function body (`RETURN expr`): what the expression calls is found by the walk
  ViewStmt: (statement) => createOrReplace(statement.replace, 'view', relationName(statement.view)),
  CreateTrigStmt: createTrigger,
  RuleStmt: createRule,
  CreateEventTrigStmt: createEventTrigger,
  CreateCastStmt: (statement) => objectCalling('cast', undefined, withArgs(statement.func)),
  CreateTransformStmt: (statement) => objectCalling('transform', statement.lang, [...withArgs(statement.fromsql), ...withArgs(statement.tosql)]),
  CreatePLangStmt: (statement) => objectCalling('language', statement.plname, [statement.plhandler, statement.plinline, statement.plvalidator].filter((n) => n?.length).map((n) => strings(n))),
  CreateConversionStmt: (statement) => objectCalling('conversion', strings(statement.conversion_name).join('.'), [strings(statement.func_name)]),
  CreateAmStmt: (statement) => objectCalling('access method', statement.amname, [strings(statement.handler_name)]),
  CreateFdwStmt: (statement) =>
    objectCalling('foreign data wrapper', statement.fdwname, (statement.func_options ?? []).flatMap((node) => ('DefElem' in node && node.DefElem.arg ? [functionNamed(node.DefElem)] : []))),
  CreateUserMappingStmt: createUserMapping,
  DefineStmt: define,

  CommentStmt: (statement) => {
    const { object, kindWords } = kindOf(statement.objtype);
    return [effect('comment', object, objectName(statement.object, statement.objtype), kindWords)];
  },

  GrantStmt: grant,
  AlterDefaultPrivilegesStmt: alterDefaultPrivileges,
  GrantRoleStmt: grantRole,

  VariableSetStmt: setting,
  VariableShowStmt: (statement) => [effect('read', 'setting', statement.name)],
  ConstraintsSetStmt: (statement) => [effect('read', 'setting', 'constraints', statement.deferred ? 'DEFERRED' : 'IMMEDIATE')],
  TransactionStmt: () => [], // BEGIN, COMMIT, SAVEPOINT...: the statements between them carry the effects
  ExplainStmt: explain,
  DeclareCursorStmt: (statement, { effectsOf }) => (statement.query ? effectsOf(statement.query) : []),
  PrepareStmt: (statement, { effectsOf }) => (statement.query ? effectsOf(statement.query) : []),

  DoStmt: () => runs('DO block'),
  CallStmt: (statement) => runs(strings(statement.funccall?.funcname).join('.'), 'procedure'),
  LoadStmt: () => runs('LOAD', 'shared library'), // the file's path is a literal: not repeated

  ...otherObjects({
    AlterEventTrigStmt: ['modify', 'event trigger'],
    DropSubscriptionStmt: ['drop', 'subscription'],
    AlterFdwStmt: ['modify', 'foreign data wrapper'],
    CreateForeignServerStmt: ['add', 'server'],
    AlterForeignServerStmt: ['modify', 'server'],
    AlterUserMappingStmt: ['modify', 'user mapping'],
    DropUserMappingStmt: ['drop', 'user mapping'],
    ImportForeignSchemaStmt: ['add', 'foreign tables'],
    CreateOpFamilyStmt: ['add', 'operator family'],
    AlterOperatorStmt: ['modify', 'operator'],
    CreateStatsStmt: ['add', 'statistics'],
    AlterStatsStmt: ['modify', 'statistics'],
    CreateTableSpaceStmt: ['add', 'tablespace'],
    DropTableSpaceStmt: ['drop', 'tablespace'],
    AlterTableSpaceOptionsStmt: ['modify', 'tablespace'],
    AlterCollationStmt: ['modify', 'collation'],
    AlterTSConfigurationStmt: ['modify', 'text search configuration'],
    AlterTSDictionaryStmt: ['modify', 'text search dictionary'],
  }),
};

/**
 * Statements about objects the effect model has no word for: object `unknown`, the kind in words as detail
 * (`drop:*` and `add:*` still match them). Named by kind only: their name fields differ per statement.
 */
function otherObjects(table: Partial<Record<NodeType, [Verb, string]>>): Classifiers {
  return Object.fromEntries(
    Object.entries(table).map(([type, [verb, kind]]) => [type, () => [effect(verb, 'unknown', undefined, kind)]]),
  ) as Classifiers;
}
