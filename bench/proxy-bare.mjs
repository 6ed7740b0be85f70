// http-proxy-3 alone, configured as the guard's door is (keep-alive agent, changeOrigin), for bench/proxy.ts:
// the difference between this and the guard is the guard's own cost.
import { Agent, createServer } from 'node:http';
import { createProxyServer } from 'http-proxy-3';

const proxy = createProxyServer({ target: process.env.HASURA_URL, agent: new Agent({ keepAlive: true }), changeOrigin: true });
createServer((req, res) => proxy.web(req, res)).listen(Number(process.env.PORT), '127.0.0.1', () => process.stdout.write('listening\n'));
