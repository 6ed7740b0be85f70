// A TEST DOUBLE of the change analysis and of the policy on effects, so the proxy door is tested on its own:
// effects come from a lookup table keyed by the body's type (a bulk: its first arg's type), and the decision from
// the verbs. The real analysis (src/analysis/) and policy replace both when the lead wires them in.
import type { Effect } from '../../src/vocabulary/effects.js';
import type { EnforcementWiring } from '../../src/app.js';
import type { Level } from '../../src/core/policy.js';
import { memoryApprovalStore } from './memory-approval-store.js';

const EFFECTS: Record<string, Effect[]> = {
  get_inconsistent_metadata: [{ verb: 'read', object: 'metadata' }],
  export_metadata: [{ verb: 'read', object: 'metadata' }],
  pg_untrack_table: [{ verb: 'untrack', object: 'table', name: 'default.public.patients' }],
  pg_drop_select_permission: [{ verb: 'revoke', object: 'permission', name: 'default.public.patients', detail: 'role user' }],
  clear_metadata: [{ verb: 'clear', object: 'metadata' }],
  replace_metadata: [{ verb: 'replace', object: 'metadata' }],
  set_custom_types: [{ verb: 'replace', object: 'custom_types' }],
};

function typeOf(body: unknown): string | undefined {
  const request = body as { type?: unknown; args?: unknown };
  if (request?.type === 'bulk' && Array.isArray(request.args)) return typeOf(request.args[0]);
  return typeof request?.type === 'string' ? request.type : undefined;
}

export async function analyzeByType(body: unknown): Promise<Effect[]> {
  const type = typeOf(body);
  if (type === 'run_sql') {
    const args = (body as { args: Array<{ args: { sql: string; read_only?: boolean; cascade?: boolean } }> }).args[0]!.args;
    if (args.read_only) return [{ verb: 'read', object: 'rows' }];
    if (/^\s*drop table/i.test(args.sql)) return [{ verb: 'drop', object: 'table', name: 'public.patients', detail: args.cascade ? 'CASCADE' : undefined }];
    return [{ verb: 'modify', object: 'column', name: 'public.patients.ssn' }];
  }
  return (type === undefined ? undefined : EFFECTS[type]) ?? [{ verb: 'unknown', object: 'unknown', detail: `type ${type ?? 'missing'}` }];
}

/** Production-like: reads pass, clear is denied, everything else needs a confirmation. */
export function decideLikeProduction(effects: Effect[]): { level: Level; className: string; instead?: string } {
  if (effects.every((e) => e.verb === 'read')) return { level: 'allow', className: 'routine' };
  if (effects.some((e) => e.verb === 'clear')) return { level: 'deny', className: 'catastrophic', instead: 'Ship it as a reviewed migration instead.' };
  return { level: 'confirm', className: 'critical' };
}

/** Staging-like: everything passes. */
export const decideAllow = (): { level: Level; className: string } => ({ level: 'allow', className: 'routine' });

export function doubleWiring(overrides: Partial<EnforcementWiring> = {}): EnforcementWiring & { store: ReturnType<typeof memoryApprovalStore> } {
  return { analyze: analyzeByType, decide: decideLikeProduction, store: memoryApprovalStore(), ...overrides } as EnforcementWiring & {
    store: ReturnType<typeof memoryApprovalStore>;
  };
}
