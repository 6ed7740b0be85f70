// The guard in enforcing mode for bench/proxy.ts, as it runs: the real change analysis, the default policy and the
// memory store. Inspected calls are routine (get_inconsistent_metadata), so they go all the way to the upstream and
// back; the 50 MB replace_metadata is diffed against the upstream's (empty) metadata, as a real one would be.
import { createApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { startServer } from '../src/server.js';

const config = loadConfig({ ...process.env, LOG_LEVEL: 'warn', METRICS_ENABLED: 'false' });
const app = createApp(config);
await app.warmUp(); // the SQL parser and the analysers, as /ready waits for them
await startServer(app.listener, { port: config.port, host: '127.0.0.1', shutdownTimeoutMs: 1000, onUpgrade: app.upgrade });
process.stdout.write('listening\n');
