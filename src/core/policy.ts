// The policy: which environments exist, which class each effect of a change belongs to, and what each environment
// does with each class (allow / confirm / deny). Classes are defined over effects (`drop:table`, `grant:*`; see
// src/vocabulary/effects.ts); they may also list operation patterns, matched against the words of `operation`, which
// can only make a decision stricter. Pure data and pure functions; no I/O except loadPolicy.
import { readFileSync } from 'node:fs';
import { load as parseYaml } from 'js-yaml';
import * as z from '../vocabulary/zod.js';
import { packageFile } from '../vocabulary/paths.js';
import { effectKey, VERBS, type Effect } from '../vocabulary/effects.js';

export type Level = 'allow' | 'confirm' | 'deny';
const LEVEL_RANK: Record<Level, number> = { allow: 0, confirm: 1, deny: 2 };

/** JSON rather than YAML only because JSON.parse is ~50 times faster than a YAML parser on a cold start. */
export const DEFAULT_POLICY_FILE = packageFile('policies', 'default.json');

const name = z.string().check(z.regex(/^[a-z][a-z0-9_-]{0,62}$/, 'must be lower-case letters, digits, "_" or "-", starting with a letter'));
const nonEmpty = (what: string) => z.refine((record: unknown) => Object.keys(record as object).length > 0, `must define at least one ${what}`);
const VERB_NAMES = Object.keys(VERBS);
/** `verb:object` where either side may be `*`; the verb must be one the analysers produce (a typo would match nothing). */
const effectPattern = z.string().check(
  z.regex(/^[a-z*]+:[a-z_*]+$/, 'must be "verb:object", e.g. "drop:table" or "grant:*"'),
  z.refine((p: string) => {
    const verb = p.split(':')[0]!;
    return verb === '*' || VERB_NAMES.includes(verb);
  }, `must start with one of the verbs ${VERB_NAMES.join(', ')} or "*"`),
);

const policySchema = z.strictObject({
  unknown_operations: name,
  operation_classes: z
    .record(
      name,
      z
        .strictObject({
          description: z.optional(z.string()), // for the reader of the file; the guard does not use it
          effects: z.optional(z.array(effectPattern)),
          operations: z.optional(z.array(z.string().check(z.trim(), z.minLength(1, 'must not be empty')))),
          instead: z.optional(z.string()),
        })
        .check(
          z.refine(
            (c: { effects?: string[]; operations?: string[] }) => (c.effects?.length ?? 0) + (c.operations?.length ?? 0) > 0,
            'must list at least one effect pattern or operation pattern',
          ),
        ),
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
  /** The class's effect patterns as one anchored alternation over `verb:object`; undefined when it lists none. */
  effects?: RegExp;
  /** The class's operation patterns as one anchored alternation over words; undefined when it lists none. */
  operations?: RegExp;
}

export interface Environment {
  name: string;
  aliases: string[];
  levels: Record<string, Level>;
}

export interface PolicyDecision {
  level: Level;
  operationClass: OperationClass;
  /** The effect that decided, when an effect did (rather than an operation pattern or the absence of any effect). */
  effect?: Effect;
}

export interface Policy {
  /** Where the policy came from (a file path), for the start-up log and `npm run check`'s messages. */
  source: string;
  environments: Environment[];
  /** The class of anything not understood. */
  unknownOperations: OperationClass;
  /** Things worth a line in the start-up log (an old-format policy that defines no effects). */
  warnings: string[];
  /** Resolves a name or alias, case-insensitively; undefined when the policy does not know it. */
  findEnvironment(raw: string): Environment | undefined;
  /** The classes one effect falls in; the unknown class when none, or when the effect is not understood. */
  classesOfEffect(effect: Effect): OperationClass[];
  /**
   * The strictest class among every effect's classes and the classes the operation's words match. No effect at all
   * is judged as not understood: a change the analysers found nothing in is not thereby harmless.
   */
  decide(effects: readonly Effect[], environment: Environment, operation?: string): PolicyDecision;
}

/** A policy file that cannot be used; the message names the file, the key and the problem. */
export class PolicyError extends Error {
  override name = 'PolicyError';
}

function normalizeOperation(operation: string): string {
  return operation.trim().replace(/\s+/g, ' ').toLowerCase();
}

function globsToRegExp(patterns: string[] | undefined): RegExp | undefined {
  if (!patterns || patterns.length === 0) return undefined;
  const alternatives = patterns.map((pattern) =>
    normalizeOperation(pattern)
      .split('*')
      .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*'),
  );
  return new RegExp(`^(?:${alternatives.join('|')})$`);
}

/** The environments, each with a level for every class and no alias twice; and every name and alias to its environment. */
function compileEnvironments(
  doc: PolicyDocument,
  classNames: string[],
  fail: (key: string, problem: string) => never,
): { environments: Environment[]; byName: Map<string, Environment> } {
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
  return { environments, byName };
}

function compilePolicy(doc: PolicyDocument, source: string): Policy {
  const fail = (key: string, problem: string): never => {
    throw new PolicyError(`${source}: ${key}: ${problem}`);
  };

  const classes: OperationClass[] = Object.entries(doc.operation_classes).map(([className, c]) => ({
    name: className,
    instead: c.instead,
    effects: globsToRegExp(c.effects),
    operations: globsToRegExp(c.operations),
  }));
  const classNames = classes.map((c) => c.name);
  const unknownOperations =
    classes.find((c) => c.name === doc.unknown_operations) ??
    fail('unknown_operations', `"${doc.unknown_operations}" is not a class in operation_classes (${classNames.join(', ')})`);

  const { environments, byName } = compileEnvironments(doc, classNames, fail);

  const warnings: string[] = [];
  if (!classes.some((c) => c.effects)) {
    // The format before effects existed. It still loads, and fails closed: every change is judged by the unknown
    // class plus whatever its words match. Say what to change rather than silently confirming everything.
    warnings.push(
      `${source} defines no "effects" in any class (the format before change analysis): every change falls in "${unknownOperations.name}" ` +
        `as well as the classes its operation patterns match. Add effect patterns such as "effects": ["drop:*"] to each class (docs/policy.md).`,
    );
  }

  function classesOfEffect(effect: Effect): OperationClass[] {
    const key = effectKey(effect);
    const matching = classes.filter((c) => c.effects?.test(key));
    // Anything not understood adds the unknown class, whatever a broad pattern such as "*:*" says of it.
    if (matching.length === 0 || effect.verb === 'unknown') return [...new Set([...matching, unknownOperations])];
    return matching;
  }

  /** Operation patterns match the operation as a whole and each of its words. */
  function classesOfOperation(operation: string): OperationClass[] {
    const normalized = normalizeOperation(operation);
    const candidates = [normalized, ...normalized.split(' ')];
    return classes.filter((c) => c.operations && candidates.some((w) => c.operations!.test(w)));
  }

  return {
    source,
    environments,
    unknownOperations,
    warnings,
    findEnvironment: (raw) => byName.get(raw.trim().toLowerCase()),
    classesOfEffect,
    decide(effects, environment, operation) {
      // The strictest class wins; on a tie, the first found (effects in order, then the operation's words).
      let decision: PolicyDecision | undefined;
      const consider = (operationClass: OperationClass, effect?: Effect) => {
        const level = environment.levels[operationClass.name] ?? 'deny';
        if (!decision || LEVEL_RANK[level] > LEVEL_RANK[decision.level]) decision = { level, operationClass, effect };
      };
      for (const effect of effects) for (const c of classesOfEffect(effect)) consider(c, effect);
      if (operation !== undefined) for (const c of classesOfOperation(operation)) consider(c);
      if (effects.length === 0) consider(unknownOperations);
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
