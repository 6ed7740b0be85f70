// A CLI project keeps its actions in two files: actions.graphql (the actions' signatures and the custom types, as
// SDL) and actions.yaml (handlers, permissions, ...). The CLI turns the SDL into metadata with its extension, then
// copies the YAML's fields onto each action and type of the same name:
//   cli/internal/metadataobject/actions/actions.go (ActionConfig.Build),
//   cli-ext/src/shared/utils/sdlUtils.js (getAllActionsFromSdl, getAllTypesFromSdl, getTypeFromAstDef),
//   cli-ext/src/shared/utils/hasuraCustomTypeUtils.js (reformCustomTypes), hasura/graphql-engine at 5a67e3e6.
import { parse, type FieldDefinitionNode, type InputValueDefinitionNode, type TypeNode, type DefinitionNode } from 'graphql';
import { isObject } from '../vocabulary/json.js';
import { CheckError } from './errors.js';

type Json = Record<string, unknown>;

/**
 * `{ actions, custom_types }` as the CLI builds them from actions.graphql's text and actions.yaml's value. The shape
 * follows the CLI's Go structs (cli/internal/metadataobject/actions/types/types.go): an action's `kind` and `handler`
 * are always there (empty when actions.yaml has none), empty or false optional fields are left out, and the
 * arguments and fields keep the extension's `description: null`. test/check/project.test.ts holds it to the CLI's
 * own golden file.
 */
export function buildActions(sdl: string, yaml: unknown, file: string): { actions: Json[]; custom_types: Json } {
  const fromSdl = readSdl(sdl, file);
  const fromYaml = isObject(yaml) ? yaml : {};
  const configured = listOf(fromYaml.actions);
  for (const action of configured) {
    if (!fromSdl.actions.some((candidate) => candidate.name === action.name)) {
      throw new CheckError('BAD_ACTIONS', `${file}: action ${String(action.name)} is not in actions.graphql`);
    }
  }
  const actions = fromSdl.actions.map((built) => withYaml(built, configured.find((action) => action.name === built.name)));
  const yamlTypes = isObject(fromYaml.custom_types) ? fromYaml.custom_types : {};
  for (const kind of ['enums', 'input_objects', 'objects', 'scalars']) {
    for (const type of listOf(yamlTypes[kind])) {
      const built = (fromSdl.types[kind] as Json[]).find((candidate) => candidate.name === type.name);
      if (!built) throw new CheckError('BAD_ACTIONS', `${file}: custom type ${String(type.name)} is not in actions.graphql`);
      for (const key of ['description', 'relationships']) if (present(type[key])) built[key] = type[key];
    }
  }
  return { actions, custom_types: fromSdl.types };
}

/** An action from the SDL, with what actions.yaml says of it (ActionConfig.Build copies these fields). */
function withYaml(built: { name: string; type: string; arguments: Json[]; output_type: string }, action: Json | undefined): Json {
  const yamlDefinition = isObject(action?.definition) ? action.definition : {};
  const definition: Json = { kind: stringOr(yamlDefinition.kind), type: built.type, handler: stringOr(yamlDefinition.handler) };
  if (built.arguments.length > 0) definition.arguments = built.arguments;
  if (built.output_type !== '') definition.output_type = built.output_type;
  if (yamlDefinition.forward_client_headers === true) definition.forward_client_headers = true;
  for (const key of ['headers', 'timeout', 'request_transform', 'response_transform']) {
    if (present(yamlDefinition[key]) && yamlDefinition[key] !== 0) definition[key] = yamlDefinition[key];
  }
  const result: Json = { name: built.name, definition };
  for (const key of ['permissions', 'comment']) if (present(action?.[key])) result[key] = action![key];
  return result;
}

const present = (value: unknown) => value !== undefined && value !== null;
const stringOr = (value: unknown) => (typeof value === 'string' ? value : '');

type SdlAction = { name: string; type: string; arguments: Json[]; output_type: string };

function readSdl(sdl: string, file: string): { actions: SdlAction[]; types: Json } {
  const types: Json = { enums: [], input_objects: [], objects: [], scalars: [] };
  const actions: SdlAction[] = [];
  if (sdl.trim() === '') return { actions, types };
  let definitions: readonly DefinitionNode[];
  try {
    definitions = parse(sdl).definitions;
  } catch (error) {
    throw new CheckError('BAD_ACTIONS', `actions.graphql (beside ${file}) is not valid GraphQL: ${(error as Error).message.split('\n')[0]}`);
  }
  for (const definition of definitions) {
    const name = 'name' in definition ? definition.name?.value : undefined;
    if ((name === 'Mutation' || name === 'Query') && 'fields' in definition) {
      for (const field of (definition.fields ?? []) as FieldDefinitionNode[]) actions.push(actionOf(field, name === 'Query' ? 'query' : 'mutation'));
      continue;
    }
    const type = typeOf(definition);
    if (type) (types[type.kind] as Json[]).push(type.value);
  }
  return { actions, types };
}

function actionOf(field: FieldDefinitionNode, type: 'query' | 'mutation'): SdlAction {
  return { name: field.name.value, type, arguments: (field.arguments ?? []).map(fieldOf), output_type: typeName(field.type) };
}

/** A custom type (getTypeFromAstDef): a type's description only when it has one, its fields' always. */
function typeOf(definition: DefinitionNode): { kind: string; value: Json } | undefined {
  switch (definition.kind) {
    case 'ScalarTypeDefinition':
      return { kind: 'scalars', value: named(definition) };
    case 'EnumTypeDefinition': {
      const values = (definition.values ?? []).map((v) => ({ value: v.name.value, description: descriptionOf(v) }));
      return { kind: 'enums', value: values.length > 0 ? { ...named(definition), values } : named(definition) };
    }
    case 'InputObjectTypeDefinition':
    case 'ObjectTypeDefinition': {
      const fields = (definition.fields ?? []).map(fieldOf);
      const value = fields.length > 0 ? { ...named(definition), fields } : named(definition);
      return { kind: definition.kind === 'ObjectTypeDefinition' ? 'objects' : 'input_objects', value };
    }
    default:
      return undefined;
  }
}

function named(definition: { name: { value: string }; description?: { value: string } }): Json {
  const description = descriptionOf(definition);
  return description === null ? { name: definition.name.value } : { name: definition.name.value, description };
}

function fieldOf(field: FieldDefinitionNode | InputValueDefinitionNode): Json {
  return { name: field.name.value, type: typeName(field.type), description: descriptionOf(field) };
}

const descriptionOf = (node: { description?: { value: string } }): string | null => (node.description ? node.description.value.trim() : null);

/** `[String!]!` as written: the CLI keeps wrapped type names as text. */
function typeName(type: TypeNode): string {
  if (type.kind === 'NonNullType') return `${typeName(type.type)}!`;
  if (type.kind === 'ListType') return `[${typeName(type.type)}]`;
  return type.name.value;
}

const listOf = (value: unknown): Json[] => (Array.isArray(value) ? value.filter(isObject) : []);
