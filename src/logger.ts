import pino, { type DestinationStream, type Logger } from 'pino';
import type { Decision } from './core/guard.js';

/** JSON lines on stdout (or a given stream, for tests). Header values are never logged anywhere. */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino({ level, base: { service: 'hasura-metadata-guard' } }, destination);
}

/** One audit line per decision: who, what, where, the outcome and why, and the token id (never the token). */
export function auditDecision(logger: Logger, decision: Decision): void {
  logger.info({ audit: decision }, `decision ${decision.action} ${decision.outcome}`);
}
