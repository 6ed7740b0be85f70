// The policy: which environments exist, which class an operation belongs to, and what each environment
// does with each class (allow / confirm / deny). Pure data and pure functions; no I/O except loadPolicy.
import { readFileSync } from 'node:fs';
import { load as parseYaml } from 'js-yaml';
import * as z from '../zod.js';
import { packageFile } from '../paths.js';

export type Level = 'allow' | 'confirm' | 'deny';
const LEVEL_RANK: Record<Level, number> = { allow: 0, confirm: 1, deny: 2 };

/** JSON rather than YAML only because JSON.parse is ~50 times faster than a YAML parser on a cold start. */
export const DEFAULT_POLICY_FILE = packageFile('policies', 'default.json');

const name = z.string().check(z.regex(/^[a-z][a-z0-9_-]{0,62}$/, 'must be lower-case letters, digits, "_" or "-", starting with a letter'));
const nonEmpty = (what: string) => z.refine((record: unknown) => Object.keys(record as object).length > 0, `must define at least one ${what}`);

const policySchema = z.strictObject({
  unknown_operations: name,
  operation_classes: z
    .record(
      name,
      z.strictObject({
        description: z.optional(z.string()), // for the reader of the file; the guard does not use it
        operations: z.array(z.string().check(z.trim(), z.minLength(1, 'must not be empty'))).check(z.minLength(1, 'must list at least one pattern')),
        instead: z.optional(z.string()),
      }),
    )
    .check(nonEmpty('class')),
  environments: z
    .record(
      name,
      z.strictObject({
        aliases: z._default(z.array(name), []),
        levels: z.record(name, z.enum(['allow', 'confirm', 'deny'])),
      }),
    )
    .check(nonEmpty('environment')),
});

type PolicyDocument = z.infer<typeof policySchema>;

export interface OperationClass {
  name: string;
  instead?: string;
  /** All of the class's patterns as one anchored alternation: one test per word instead of one per pattern. */
  matcher: RegExp;
}

export interface Environment {
  name: string;
  aliases: string[];
  levels: Record<string, Level>;
}

export interface PolicyDecision {
  level: Level;
  operationClass: OperationClass;
}

export interface Policy {
  /** Where the policy came from, for the start-up log and the README's "active policy". */
  source: string;
  environments: Environment[];
  /** Resolves a name or alias, case-insensitively; undefined when the policy does not know it. */
  findEnvironment(raw: string): Environment | undefined;
  decide(operation: string, environment: Environment): PolicyDecision;
}

/** A policy file that cannot be used; the message names the file, the key and the problem. */
export class PolicyError extends Error {
  override name = 'PolicyError';
}

export function normalizeOperation(operation: string): string {
  return operation.trim().replace(/\s+/g, ' ').toLowerCase();
}

function globsToRegExp(patterns: string[]): RegExp {
  const alternatives = patterns.map((pattern) =>
    normalizeOperation(pattern)
      .split('*')
      .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*'),
  );
  return new RegExp(`^(?:${alternatives.join('|')})$`);
}

export function compilePolicy(doc: PolicyDocument, source: string): Policy {
  const fail = (key: string, problem: string): never => {
    throw new PolicyError(`${source}: ${key}: ${problem}`);
  };

  const classes: OperationClass[] = Object.entries(doc.operation_classes).map(([className, c]) => ({
    name: className,
    instead: c.instead,
    matcher: globsToRegExp(c.operations),
  }));
  const classNames = classes.map((c) => c.name);
  const unknownOperations =
    classes.find((c) => c.name === doc.unknown_operations) ??
    fail('unknown_operations', `"${doc.unknown_operations}" is not a class in operation_classes (${classNames.join(', ')})`);

  const byName = new Map<string, Environment>();
  const environments = Object.entries(doc.environments).map(([envName, e]) => {
    for (const className of classNames) {
      if (!(className in e.levels)) fail(`environments.${envName}.levels`, `no level for class "${className}"`);
    }
    for (const className of Object.keys(e.levels)) {
      if (!classNames.includes(className)) {
        fail(`environments.${envName}.levels.${className}`, `"${className}" is not a class in operation_classes`);
      }
    }
    const environment: Environment = { name: envName, aliases: e.aliases, levels: e.levels };
    for (const key of [envName, ...e.aliases]) {
      const taken = byName.get(key);
      if (taken) fail(`environments.${envName}.aliases`, `"${key}" already names environment "${taken.name}"`);
      byName.set(key, environment);
    }
    return environment;
  });

  // The classes an operation falls in depend on the operation alone, and the same few operations arrive again and
  // again: they are remembered, in a map emptied whenever it reaches 1,000 operations, so it stays bounded.
  const classesByOperation = new Map<string, OperationClass[]>();
  function classesOf(operation: string): OperationClass[] {
    const known = classesByOperation.get(operation);
    if (known) return known;
    const normalized = normalizeOperation(operation);
    const candidates = [normalized, ...normalized.split(' ')];
    const matching = classes.filter((c) => candidates.some((w) => c.matcher.test(w)));
    if (matching.length === 0) matching.push(unknownOperations);
    if (classesByOperation.size >= 1000) classesByOperation.clear();
    classesByOperation.set(operation, matching);
    return matching;
  }

  return {
    source,
    environments,
    findEnvironment: (raw) => byName.get(raw.trim().toLowerCase()),
    decide(operation, environment) {
      // The strictest class wins; on a tie, the one declared first.
      let decision: PolicyDecision | undefined;
      for (const operationClass of classesOf(operation)) {
        const level = environment.levels[operationClass.name] ?? 'deny';
        if (!decision || LEVEL_RANK[level] > LEVEL_RANK[decision.level]) decision = { level, operationClass };
      }
      return decision!;
    },
  };
}

/** Reads a YAML or JSON policy file (by its extension; JSON is also valid YAML), validates it and compiles it. */
export function loadPolicy(file: string = DEFAULT_POLICY_FILE): Policy {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new PolicyError(`${file}: cannot read the file (${code})`);
  }
  let raw: unknown;
  try {
    raw = file.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    const firstLine = String((err as Error).message).split('\n')[0];
    throw new PolicyError(`${file}: not valid ${file.endsWith('.json') ? 'JSON' : 'YAML or JSON'}: ${firstLine}`);
  }
  const parsed = policySchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const key = issue.path.length > 0 ? issue.path.join('.') : '(top level)';
    throw new PolicyError(`${file}: ${key}: ${issue.message}`);
  }
  return compilePolicy(parsed.data, file);
}
