// Starts the server: read the configuration, build the app, listen, and shut down gracefully on a signal.
import { createApp } from './app.js';
import { ConfigError, loadConfig } from './config.js';
import { startServer } from './server.js';

let config;
try {
  config = loadConfig();
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  // One line, naming the variable and the fix; no stack trace for a configuration mistake.
  process.stderr.write(`Configuration error: ${err.message}\n`);
  process.exit(1);
}

const app = createApp(config);
for (const warning of config.warnings) app.logger.warn(warning);

const running = await startServer(app.listener, {
  port: config.port,
  host: config.host,
  shutdownTimeoutMs: config.shutdownTimeoutMs,
  onShutdownStart: app.markShuttingDown,
  onUpgrade: app.upgrade,
  ...config.http,
}).catch((err: NodeJS.ErrnoException) => {
  const why = err.code === 'EADDRINUSE' ? 'the address is in use; set PORT to a free port' : `${err.code ?? err.message}; check HOST and PORT`;
  process.stderr.write(`Cannot listen on ${config.host ?? 'every address'}:${config.port}: ${why}\n`);
  process.exit(1);
});
// Load the GraphQL door a moment after listening, so requests already waiting (a health probe, a webhook) are
// answered first rather than queued behind the ~70 ms it takes to evaluate graphql-yoga and graphql-js.
setTimeout(() => void app.warmUp(), 20);
app.logger.info(
  {
    url: running.url,
    policy: config.policy.source,
    guardEnvironment: config.guardEnvironment ?? null,
    graphiql: config.graphiqlEnabled,
    metrics: config.metricsEnabled,
    fourEyes: config.fourEyes,
  },
  `listening on ${config.host ?? 'every address'}:${(running.server.address() as { port: number }).port}`,
);
if (config.graphiqlEnabled) app.logger.info({ graphiql: `${running.url}/graphql` }, `GraphiQL: open ${running.url}/graphql in a browser`);

let stopping = false;
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    app.logger.info({ signal }, 'shutting down: finishing in-flight requests');
    void running.shutdown().then(async () => {
      await app.close().catch((err: unknown) => app.logger.warn({ err }, 'the store did not close cleanly'));
      app.logger.info('stopped');
      app.logger.flush(() => process.exit(0));
    });
  });
}
