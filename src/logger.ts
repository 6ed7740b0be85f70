import pino, { type DestinationStream, type Logger } from 'pino';
import type { Decision } from './core/guard.js';

/**
 * JSON lines on stdout (or a given stream, for tests). Written asynchronously: a synchronous write per audit line
 * would stall every request behind the terminal or the log collector. index.ts flushes before exiting.
 * Header values are never logged anywhere.
 */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino({ level, base: { service: 'hasura-metadata-guard' } }, destination ?? process.stdout);
}

/** One audit line per decision: who, what, where, the outcome and why, and the token id (never the token). */
export function auditDecision(logger: Logger, decision: Decision): void {
  logger.info({ audit: decision }, `decision ${decision.action} ${decision.outcome}`);
}
