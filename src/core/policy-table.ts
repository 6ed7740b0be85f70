// The effect model and a policy as Markdown tables, generated from the same definitions the guard runs
// (VERBS and the policy file), so the docs cannot drift: test/docs.test.ts compares docs/policy.md with them.
import { VERBS, type Effect, type Verb } from '../vocabulary/effects.js';
import type { Policy } from './policy.js';

export function verbTable(): string {
  const rows = (Object.entries(VERBS) as [Verb, string][]).map(([verb, meaning]) => `| \`${verb}\` | ${meaning} |`);
  return ['| verb | meaning |', '| --- | --- |', ...rows].join('\n');
}

/** A typical effect for each verb, then those whose object changes the decision in the default policy. */
const SHOWN = [
  'read:table', 'add:table', 'comment:table', 'modify:permission', 'rename:column', 'replace:function', 'rewrite:rows', 'rewrite:all_rows',
  'delete:rows', 'delete:all_rows', 'untrack:table', 'drop:table', 'grant:permission', 'grant:role', 'grant:privilege', 'grant:policy', 'revoke:privilege', 'run:function', 'run:sql', 'unknown:unknown',
  'replace:source', 'grant:credentials', 'grant:extension', 'grant:allowlist',
  'drop:source', 'drop:schema', 'drop:database', 'drop:owned', 'clear:metadata', 'clear:source',
];

/** One row per effect: every class it falls in, and the level each environment gives it. */
export function policyTable(policy: Policy): string {
  const envs = policy.environments;
  const rows = SHOWN.map((key) => {
    const [verb, object] = key.split(':') as [Verb, Effect['object']];
    const effect: Effect = { verb, object };
    const classes = policy.classesOfEffect(effect).map((c) => c.name).join(', ');
    return `| \`${key}\` | ${classes} | ${envs.map((e) => policy.decide([effect], e).level).join(' | ')} |`;
  });
  return [`| effect | class | ${envs.map((e) => e.name).join(' | ')} |`, `| --- | --- | ${envs.map(() => '---').join(' | ')} |`, ...rows].join('\n');
}
