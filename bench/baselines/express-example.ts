/**
 * Baseline (b): the Express handler of SingleFile's own webhook example, run in its own process.
 * `express.json()` parses the body, the handler answers 200 `{"status":"ok"}` and keeps nothing.
 * The example also logs each event type to the console; that line is left out here, so the
 * baseline is as fast as Express gets (it only makes the comparison harder for the receiver).
 */
import type { AddressInfo } from 'node:net';
import express from 'express';
import { announce } from '../servers/child.ts';

const app = express();

app.post('/webhooks/singlefile', express.json(), (_req, res) => {
  res.status(200).json({ status: 'ok' });
});

const server = app.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  announce({ url: `http://127.0.0.1:${port}/webhooks/singlefile` });
});
