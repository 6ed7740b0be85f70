import pino, { type DestinationStream, type Logger } from 'pino';
import type { Decision } from './core/advisory.js';

/**
 * JSON lines on stdout, or on a given stream (tests). Header values are never logged anywhere. stdout is written
 * asynchronously (pino's sonic-boom): under load, lines that arrive while a write is in flight leave together in
 * the next one. pino flushes what is left when the process exits; logger.flush(done) is for a graceful exit.
 */
export function createLogger(level: string, destination: DestinationStream = pino.destination({ dest: 1, sync: false })): Logger {
  return pino({ level, base: { service: 'hasura-metadata-guard' } }, destination);
}

/** One audit line per decision: who, what, where, the outcome and why, and the token id (never the token). */
export function auditDecision(logger: Logger, decision: Decision): void {
  logger.info({ audit: decision }, `decision ${decision.action} ${decision.outcome}`);
}
