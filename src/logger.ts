import pino, { type DestinationStream, type Logger } from 'pino';
import type { Decision } from './core/guard.js';

/**
 * JSON lines on stdout, or on a given stream (tests). Header values are never logged anywhere.
 */
export function createLogger(level: string, destination: DestinationStream = batchedStdout()): Logger {
  return pino({ level, base: { service: 'hasura-metadata-guard' } }, destination);
}

/**
 * stdout, with the lines of one turn of the event loop written together: under load that is one write for
 * many audit lines instead of one each (the benchmark measured the difference); when quiet, a line still
 * leaves in the same turn. flush() is for exiting.
 */
function batchedStdout(): DestinationStream & { flush(done?: () => void): void } {
  let pending = '';
  let scheduled = false;
  const writePending = () => {
    scheduled = false;
    const lines = pending;
    pending = '';
    if (lines) process.stdout.write(lines);
  };
  return {
    write(line: string) {
      pending += line;
      if (!scheduled) {
        scheduled = true;
        setImmediate(writePending);
      }
    },
    flush(done) {
      writePending();
      process.stdout.write('', () => done?.());
    },
  };
}

/** One audit line per decision: who, what, where, the outcome and why, and the token id (never the token). */
export function auditDecision(logger: Logger, decision: Decision): void {
  logger.info({ audit: decision }, `decision ${decision.action} ${decision.outcome}`);
}
