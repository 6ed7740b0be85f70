import { describe, expect, it } from 'vitest';
import { MAX_TABLE_NAME_LENGTH, MAX_TABLE_PART_LENGTH, parseTableName } from '../../src/core/table-name.js';

describe('table_name: the names Hasura backends give tables', () => {
  it.each([
    ['', []],
    ['   ', []],
    ['patients', ['patients']],
    ['public.patients', ['public', 'patients']],
    [' public.patients ', ['public', 'patients']],
    ['public."Order Items"', ['public', 'Order Items']],
    ['"My ""Quoted"" Table"', ['My "Quoted" Table']],
    ['"weird.name"', ['weird.name']],
    ['clinic.dbo.patients', ['clinic', 'dbo', 'patients']],
    ['[dbo].[Order Items]', ['dbo', 'Order Items']],
    ['[a]]b]', ['a]b']],
    ['my-project.dataset.table', ['my-project', 'dataset', 'table']],
    ['`my-project`.dataset.table_2024', ['my-project', 'dataset', 'table_2024']],
    ['Billing.Invoice_2024', ['Billing', 'Invoice_2024']],
    ['kunden.größe', ['kunden', 'größe']],
    ['1table', ['1table']],
    ['tab$le', ['tab$le']],
    [`${'a'.repeat(MAX_TABLE_PART_LENGTH)}.b`, ['a'.repeat(MAX_TABLE_PART_LENGTH), 'b']],
  ])('accepts %j', (input, parts) => {
    expect(parseTableName(input)).toEqual({ ok: true, name: input.trim(), parts });
  });

  it.each([
    ['public.', 'a part is missing after "."'],
    ['.patients', 'a part cannot start with "."'],
    ['a.b.c.d', 'it has more than 3 parts'],
    ['patients; DROP TABLE x', 'unexpected ";" after the first part'],
    ['public patients', 'unexpected " " after the first part'],
    ['-table', 'a part cannot start with "-"'],
    ['public."Order Items', 'a part opened with " is not closed'],
    ['""', 'a quoted part is empty'],
    ['"a"b', 'unexpected "b" after the first part'],
    ['pat\u0000ients', 'it contains a control character'],
    ['"line\nbreak"', 'it contains a control character'],
    ['x'.repeat(MAX_TABLE_PART_LENGTH + 1), `a part is longer than ${MAX_TABLE_PART_LENGTH} characters`],
    [Array.from({ length: 3 }, () => `"${'x'.repeat(MAX_TABLE_PART_LENGTH)}"`).join('.') + 'x'.repeat(10), `it is longer than ${MAX_TABLE_NAME_LENGTH} characters`],
  ])('refuses %j: %s', (input, problem) => {
    expect(parseTableName(input)).toEqual({ ok: false, problem });
  });
});
