// A held answer and its token name every object the change touches, or the first ones and how many more. Before,
// `DROP TABLE tmp_scratch; DROP TABLE patients` showed only the scratch table on the confirm page (the token named
// one object), and a change that read many things before dropping one could list only the reads. Real analysis and
// policy, through the proxy, in front of the stand-in Hasura.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MAX_TOKEN_LENGTH } from '../../src/core/tokens.js';
import { postMetadata, startEnforcingServer, type EnforcingServer } from '../support/enforcing-server.js';

let guard: EnforcingServer;
beforeAll(async () => {
  guard = await startEnforcingServer({});
});
afterAll(() => guard.close());
beforeEach(() => {
  guard.hasura.requests.length = 0;
});

const runSql = (sql: string) => ({ type: 'run_sql', args: { source: 'default', sql } });
/** The claims of a token, as anyone holding it can read them (the page shows them). */
const claimsOf = (token: string) => JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8'));

describe('a held change names every object it touches', () => {
  it('DROP TABLE tmp_scratch; DROP TABLE patients: both, in the answer, its message and the token', async () => {
    const held = await postMetadata(guard.url, '/v2/query', runSql('DROP TABLE tmp_scratch; DROP TABLE patients'));
    expect(held.status).toBe(400);
    expect(held.json.code).toBe('guard-confirmation-required');
    expect(held.json.guard.objects).toEqual(['default.tmp_scratch', 'default.patients']);
    expect(held.json.guard).not.toHaveProperty('more_objects');
    expect(held.json.error).toContain('drops table default.tmp_scratch; drops table default.patients');
    expect(claimsOf(held.json.guard.confirmation_token).tbl).toBe('default.tmp_scratch, default.patients');
    expect(guard.hasura.forwarded()).toEqual([]);
  });

  it('what it changes comes before what it only reads, in the list and the message', async () => {
    const reads = Array.from({ length: 10 }, (_, i) => `SELECT * FROM audit_${i}`).join('; ');
    const held = await postMetadata(guard.url, '/v2/query', runSql(`${reads}; DROP TABLE patients`));
    expect(held.json.guard.changes[0]).toMatchObject({ verb: 'drop', object: 'table', name: 'default.patients' });
    expect(held.json.guard.objects).toEqual(['default.patients']);
    expect(held.json.error).toMatch(/this request drops table default\.patients; /);
    expect(guard.hasura.forwarded()).toEqual([]);
  });

  it('150 tables: the answer lists 100 and counts 50 more; the token names the first ones and stays small', async () => {
    const sql = Array.from({ length: 150 }, (_, i) => `DROP TABLE t_${String(i).padStart(3, '0')}`).join('; ');
    const held = await postMetadata(guard.url, '/v2/query', runSql(sql));
    expect(held.json.guard.objects).toHaveLength(100);
    expect(held.json.guard.objects[0]).toBe('default.t_000');
    expect(held.json.guard.more_objects).toBe(50);
    expect(held.json.error).toContain('drops table default.t_007; and 142 more');

    const token = held.json.guard.confirmation_token as string;
    const { tbl } = claimsOf(token);
    expect(tbl).toMatch(/^default\.t_000, default\.t_001, .*, default\.t_0\d\d and \d+ more$/);
    const named = tbl.replace(/ and \d+ more$/, '').split(', ').length;
    expect(tbl).toContain(` and ${150 - named} more`);
    expect(Buffer.byteLength(tbl)).toBeLessThanOrEqual(420);
    expect(token.length).toBeLessThan(MAX_TOKEN_LENGTH);
  });

  it('a name longer than 100 characters is cut in the token (marked …); names past 400 bytes are counted', async () => {
    // PostgreSQL keeps 63 bytes of an identifier; a schema-qualified name is longer than 100 characters.
    const schema = 's'.repeat(63);
    const tables = ['a', 'b', 'c', 'd'].map((c) => c.repeat(63));
    const held = await postMetadata(guard.url, '/v2/query', runSql(tables.map((t) => `DROP TABLE ${schema}.${t}`).join('; ')));
    const names = tables.map((t) => `default.${schema}.${t}`);
    expect(held.json.guard.objects).toEqual(names);
    const token = held.json.guard.confirmation_token as string;
    expect(token.length).toBeLessThan(MAX_TOKEN_LENGTH);
    const cut = (name: string) => `${name.slice(0, 99)}…`;
    expect(claimsOf(token).tbl).toBe(`${names.slice(0, 3).map(cut).join(', ')} and 1 more`);
  });
});
