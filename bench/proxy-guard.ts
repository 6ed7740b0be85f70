// The guard in enforcing mode for bench/proxy.ts, with the test double of the analysis (test/support): the figures
// are the door's own cost (read, decode, parse, fingerprint, forward), not the real analysis'.
import { createApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { startServer } from '../src/server.js';
import { doubleWiring } from '../test/support/analysis-double.js';

const config = loadConfig({ ...process.env, LOG_LEVEL: 'warn', METRICS_ENABLED: 'false' });
// Everything passes, so inspected calls are measured all the way to the upstream and back.
const app = createApp(config, { enforcement: doubleWiring({ decide: () => ({ level: 'allow', className: 'routine' }) }) });
await startServer(app.listener, { port: config.port, host: '127.0.0.1', shutdownTimeoutMs: 1000, onUpgrade: app.upgrade });
process.stdout.write('listening\n');
