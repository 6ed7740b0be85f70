// An in-memory store for tests of the enforcing path: what the engine needs of a store (DecisionStore), in a few lines.
import type { DecisionStore } from '../../src/core/engine.js';

export function memoryApprovalStore(maxTokens = 10_000): DecisionStore & { approvals: Map<string, number> } {
  const used = new Map<string, number>();
  const approvals = new Map<string, number>();
  return {
    approvals,
    async useToken(jti, expiresAtSeconds, nowSeconds) {
      for (const [id, exp] of used) if (exp < nowSeconds) used.delete(id);
      if (used.has(jti)) return 'already-used';
      if (used.size >= maxTokens) return 'full';
      used.set(jti, expiresAtSeconds);
      return 'remembered';
    },
    async approve(fp, crd, expiresAtSeconds) {
      approvals.set(`${fp}:${crd}`, expiresAtSeconds);
    },
    async takeApproval(fp, crd, nowSeconds) {
      const key = `${fp}:${crd}`;
      const exp = approvals.get(key);
      approvals.delete(key);
      return exp !== undefined && exp >= nowSeconds;
    },
  };
}
