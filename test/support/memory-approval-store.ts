// An in-memory ApprovalStore for tests: the contract the shared store implements, in a few lines.
import type { ApprovalStore } from '../../src/core/enforcement.js';

export function memoryApprovalStore(maxTokens = 10_000): ApprovalStore & { approvals: Map<string, number> } {
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
