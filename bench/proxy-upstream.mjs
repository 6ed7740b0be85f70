// A stand-in Hasura for bench/proxy.ts: answers every request at once with a small JSON body, reading and
// dropping what it is sent; export_metadata answers {resource_version, metadata}: an empty metadata, or the
// contents of EXPORT_FILE.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';

const answer = Buffer.from('{"data":{"patients":[{"id":1,"name":"a"}]}}');
const exported = process.env.EXPORT_FILE ? readFileSync(process.env.EXPORT_FILE) : Buffer.from('{"resource_version":1,"metadata":{"version":3,"sources":[]}}');
createServer((req, res) => {
  let head = '';
  req.on('data', (chunk) => {
    if (head.length < 64) head += chunk.toString('latin1', 0, 64);
  });
  req.on('end', () => {
    const body = head.includes('export_metadata') ? exported : answer;
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length });
    res.end(body);
  });
}).listen(Number(process.env.PORT), '127.0.0.1', () => process.stdout.write('listening\n'));
