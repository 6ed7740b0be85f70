// The reference issue 18 names: a seed-style Express backend (express.json(), one route per action) doing the work
// of reference-logic.mjs. What a team would write by hand for these webhooks; the project must be at least as fast.
import express from 'express';
import { announce, answer } from './reference-logic.mjs';

const app = express();
app.get('/health', (_req, res) => res.json({ status: 'ok' }));
app.post('/{*path}', express.json(), (req, res) => {
  const { status, body } = answer(req.body);
  res.status(status).json(body);
});
// express.json() refuses a body that is not JSON: the same 400 as the node:http reference.
app.use((_err, _req, res, _next) => res.status(400).json({ message: 'invalid JSON', extensions: { code: 'INVALID_JSON' } }));

const server = app.listen(Number(process.env.PORT ?? 0), process.env.HOST ?? '127.0.0.1', () => announce(server));
