// Extensions whose CREATE EXTENSION installs code that reaches outside the database: connections to other servers,
// the server's files and programs, languages without a sandbox, jobs that run later. Installing one widens what any
// SQL run afterwards can do, so it is a grant (`grant:extension`), held in production; every other extension
// (pgcrypto, postgis, uuid-ossp, citext, pg_trgm, btree_gist, hstore, ...) only adds types and functions that
// compute, and stays an addition. Names as PostgreSQL's contrib modules and the extensions' own documentation give them.

const REACHING_OUT: Readonly<Record<string, string>> = {
  // connections to other servers
  dblink: 'opens connections to other databases and runs SQL there',
  postgres_fdw: 'reads and writes tables of other PostgreSQL servers',
  mysql_fdw: 'reads and writes tables of MySQL servers',
  oracle_fdw: 'reads and writes tables of Oracle servers',
  tds_fdw: 'reads and writes tables of SQL Server and Sybase servers',
  mongo_fdw: 'reads and writes MongoDB collections',
  redis_fdw: 'reads and writes Redis keys',
  multicorn: 'foreign data wrappers written in Python',
  http: 'makes HTTP requests from SQL',
  pg_net: 'makes HTTP requests from SQL',
  aws_s3: 'reads and writes files in Amazon S3',
  aws_lambda: 'calls AWS Lambda functions',
  aws_commons: 'AWS access for aws_s3 and aws_lambda',
  // the server's files and programs
  file_fdw: "reads the database server's files (and a program's output) as tables",
  adminpack: "writes, renames and deletes the database server's files",
  log_fdw: "reads the database server's log files",
  // languages without a sandbox: a function in them does anything the server's operating-system user can
  plpython3u: 'functions in untrusted Python',
  plpythonu: 'functions in untrusted Python',
  plpython2u: 'functions in untrusted Python',
  plperlu: 'functions in untrusted Perl',
  pltclu: 'functions in untrusted Tcl',
  plsh: 'functions in shell',
  pljavau: 'functions in untrusted Java',
  // work that runs later, outside the request
  pg_cron: 'schedules SQL to run later, as jobs',
  pg_background: 'runs SQL in background workers',
  pg_task: 'schedules SQL to run later, as tasks',
};

/**
 * Names that say what they are: a foreign data wrapper (`ogr_fdw`, `sqlite_fdw`: data outside the database), and a
 * transform for an untrusted language (`jsonb_plpython3u`), which requires that language and, with CASCADE,
 * installs it.
 */
const REACHING_OUT_BY_NAME: ReadonlyArray<[RegExp, string]> = [
  [/_fdw$/, 'a foreign data wrapper: reads and writes data outside the database'],
  [/_pl(?:python[23]?|perl|tcl)u$/, 'a transform for an untrusted language, which it requires (and CASCADE installs)'],
];

/** Why installing this extension widens what SQL can do, or undefined for an extension that only computes. */
export const reachesOutside = (extension: string): string | undefined =>
  Object.hasOwn(REACHING_OUT, extension) ? REACHING_OUT[extension] : REACHING_OUT_BY_NAME.find(([pattern]) => pattern.test(extension))?.[1];
