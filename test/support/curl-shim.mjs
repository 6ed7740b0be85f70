#!/usr/bin/env node
// A stand-in for the few curl options the README's tour uses (-s, -H, -d, -X), for machines without curl: the tour
// test puts it on PATH only when no curl is installed. It prints the response body, as curl -s does.
const args = process.argv.slice(2);
const headers = {};
let method;
let body;
let url;
for (let i = 0; i < args.length; i++) {
  const arg = args[i];
  if (arg === '-s' || arg === '--silent') continue;
  if (arg === '-H') {
    const [name, ...value] = args[++i].split(':');
    headers[name.trim()] = value.join(':').trim();
  } else if (arg === '-d' || arg === '--data') body = args[++i];
  else if (arg === '-X') method = args[++i];
  else if (!arg.startsWith('-')) url = arg.includes('://') ? arg : `http://${arg}`;
  else {
    process.stderr.write(`curl-shim: unsupported option ${arg}\n`);
    process.exit(2);
  }
}
const response = await fetch(url, { method: method ?? (body === undefined ? 'GET' : 'POST'), headers, body });
process.stdout.write(await response.text());
