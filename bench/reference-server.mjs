// The fastest reference: the work of reference-logic.mjs on node:http by hand, JSON.parse of Hasura's body, no
// routing library.
import { createServer } from 'node:http';
import { announce, answer as answerPayload } from './reference-logic.mjs';

const server = createServer((req, res) => {
  if (req.url === '/health') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"status":"ok"}');
    return;
  }
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    let answer;
    try {
      answer = answerPayload(JSON.parse(Buffer.concat(chunks).toString()));
    } catch {
      answer = { status: 400, body: { message: 'invalid JSON', extensions: { code: 'INVALID_JSON' } } };
    }
    const body = JSON.stringify(answer.body);
    res.writeHead(answer.status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
});

server.listen(Number(process.env.PORT ?? 0), process.env.HOST ?? '127.0.0.1', () => announce(server));
