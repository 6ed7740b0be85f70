// `npm start` is the server itself as far as signals go: stopping npm (kill <pid>, a process manager, a
// container runtime) stops the guard, instead of leaving it running without a parent.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { connect, createServer } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { describe, expect, it } from 'vitest';

async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}

/** Resolves with "refused" once nothing listens on the port, or "open" while something does. */
function probe(port: number): Promise<'open' | 'refused'> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve('open');
    });
    socket.once('error', () => resolve('refused'));
  });
}

describe('npm start', () => {
  it('SIGTERM to the npm process stops the server: it shuts down gracefully and frees the port', { timeout: 60_000 }, async () => {
    const port = await freePort();
    const npm = spawn('npm', ['start', '--silent'], {
      cwd: join(import.meta.dirname, '..'),
      env: { ...process.env, NODE_ENV: 'development', PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const exited = once(npm, 'exit');
    const messages: string[] = [];
    const lines = createInterface({ input: npm.stdout! });
    lines.on('line', (line) => messages.push(String(JSON.parse(line).msg)));
    const waitFor = (text: string) =>
      new Promise<void>((resolve, reject) => {
        lines.on('line', () => {
          if (messages.at(-1)!.startsWith(text)) resolve();
        });
        npm.once('exit', () => reject(new Error(`exited before "${text}"; saw: ${messages.join(' | ')}`)));
      });

    const listening = waitFor('listening on');
    const stopped = waitFor('stopped');
    await listening;
    expect(await probe(port)).toBe('open');
    expect(messages).toContain(`GraphiQL: open http://127.0.0.1:${port}/graphql in a browser`);

    npm.kill('SIGTERM');
    await stopped;
    const [code] = await exited;
    expect(messages).toContain('shutting down: finishing in-flight requests');
    expect(await probe(port)).toBe('refused');
    expect(code === 0 || code === null).toBe(true);
  });
});
