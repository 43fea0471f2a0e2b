/**
 * Baseline (c): the least a node:http webhook endpoint can do, run in its own process. It reads
 * the body to its end (so the request is complete, as for the other two) and answers 200
 * `{"status":"ok"}`; no parsing, no validation, no storage. The ceiling of Node's HTTP stack.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { announce } from '../servers/child.ts';

const answer = JSON.stringify({ status: 'ok' });

const server = createServer((req, res) => {
  req.resume();
  req.once('end', () => {
    res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(answer) });
    res.end(answer);
  });
});

server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  announce({ url: `http://127.0.0.1:${port}/webhooks/singlefile` });
});
