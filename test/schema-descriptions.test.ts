// The schema describes itself: GraphiQL's docs and Hasura's remote schema explorer show these descriptions, so
// a person can learn the API there. Every type, field, argument and input field must have one.
import { readFileSync } from 'node:fs';
import { buildSchema, isInputObjectType, isIntrospectionType, isObjectType, isSpecifiedScalarType } from 'graphql';
import { describe, expect, it } from 'vitest';
import { SCHEMA_FILE } from '../src/doors/graphql.js';

/** Every element of the schema (ours, not GraphQL's own) whose description is missing or blank. */
function undescribed(sdl: string): string[] {
  const missing: string[] = [];
  const check = (where: string, description: string | null | undefined) => {
    if (!description?.trim()) missing.push(where);
  };
  for (const type of Object.values(buildSchema(sdl).getTypeMap())) {
    if (isIntrospectionType(type) || isSpecifiedScalarType(type)) continue;
    check(type.name, type.description);
    if (isObjectType(type)) {
      for (const field of Object.values(type.getFields())) {
        check(`${type.name}.${field.name}`, field.description);
        for (const arg of field.args) check(`${type.name}.${field.name}(${arg.name})`, arg.description);
      }
    }
    if (isInputObjectType(type)) for (const field of Object.values(type.getFields())) check(`${type.name}.${field.name}`, field.description);
  }
  return missing;
}

describe('schema.graphql', () => {
  it('describes every type, field, argument and input field', () => {
    expect(undescribed(readFileSync(SCHEMA_FILE, 'utf8'))).toEqual([]);
  });

  it('the check finds what is left undescribed', () => {
    expect(undescribed('"q" type Query { "f" a(x: Int): Int, b: Int } input I { c: Int }')).toEqual(['Query.a(x)', 'Query.b', 'I', 'I.c']);
  });

  it('tells integrations to check level, not only success', () => {
    const sdl = readFileSync(SCHEMA_FILE, 'utf8');
    expect(sdl).toMatch(/Check level, not only success/);
  });
});
