// The worker thread of sql-parallel.ts: analyses one piece of a large SQL text (parse, walk, classify) and posts the
// plain result back. An entry point of the bundle of its own (package.json "build"), so it runs from dist/ as well.
import { parentPort } from 'node:worker_threads';
import { analyzePiece, loadSqlParser } from './sql.js';

export interface PieceRequest {
  id: number;
  sql: string;
  readOnly: boolean;
}

const port = parentPort;
if (!port) throw new Error('sql-worker.ts runs as a worker thread only');

port.on('message', (request: PieceRequest) => {
  loadSqlParser().then(
    () => port.postMessage({ id: request.id, piece: analyzePiece(request.sql, request.readOnly) }),
    (error: unknown) => port.postMessage({ id: request.id, failed: error instanceof Error ? error.message : 'the parser did not load' }),
  );
});
// Loaded at once, so the first large SQL finds the parser ready.
loadSqlParser().catch(() => undefined);
