import { rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StatusSchema } from '../shared/api.ts';
import { runCli, type ServeProcess, startServe } from './helpers/cli.ts';
import { tempDir } from './helpers/fixtures.ts';
import { canConnect, post, send } from './helpers/http.ts';

// `serve` with its dashboard, as a person starts it: a real process, real sockets.

const DASHBOARD_URL = /^http:\/\/127\.0\.0\.1:(\d+)\/#token=([A-Za-z0-9_-]{43})$/;

describe('serve with the dashboard', () => {
  let dataDir: string;
  let serve: ServeProcess;
  let port: number;
  let token: string;

  beforeAll(async () => {
    dataDir = tempDir();
    serve = await startServe(dataDir);
    const match = DASHBOARD_URL.exec(serve.ready.dashboardUrl ?? '');
    port = Number(match?.[1]);
    token = match?.[2] ?? '';
  });
  afterAll(async () => {
    await serve?.stop('SIGTERM');
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('prints a loopback dashboard URL with the access token, on a port other than the receiver', () => {
    expect(serve.ready.dashboardUrl).toMatch(DASHBOARD_URL);
    expect(port).not.toBe(Number(new URL(serve.ready.localUrl).port));
  });

  it('answers the Monitor API there with the token, and refuses it without', async () => {
    const answer = await post(`http://127.0.0.1:${port}/api/getStatus`, '{}', { Authorization: `Bearer ${token}` });
    expect(answer.status).toBe(200);
    expect(StatusSchema.parse(JSON.parse(answer.body)).receiver.localUrl).toBe(serve.ready.localUrl);
    expect((await post(`http://127.0.0.1:${port}/api/getStatus`, '{}')).status).toBe(401);
  });

  it('keeps the API off the receiver, which the tunnel forwards', async () => {
    const receiverBase = new URL(serve.ready.localUrl).origin;
    const answer = await post(`${receiverBase}/api/getStatus`, '{}', { Authorization: `Bearer ${token}` });
    expect(answer.status).toBe(404);
    expect((await send(`${receiverBase}/`)).status).toBe(404);
  });

  it('a fresh token per start', async () => {
    const other = tempDir();
    const second = await startServe(other);
    try {
      expect(second.ready.dashboardUrl).toMatch(DASHBOARD_URL);
      expect(DASHBOARD_URL.exec(second.ready.dashboardUrl ?? '')?.[2]).not.toBe(token);
    } finally {
      await second.stop();
      rmSync(other, { recursive: true, force: true });
    }
  });
});

describe('serve dashboard options', () => {
  it('--no-dashboard prints dashboardUrl null and opens no second port', async () => {
    const dir = tempDir();
    const serve = await startServe(dir, ['--no-dashboard']);
    try {
      expect(serve.ready.dashboardUrl).toBeNull();
    } finally {
      expect(await serve.stop()).toBe(0);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('--dashboard-port N listens there; a stop with an event stream open still exits 0 and closes it', async () => {
    const wanted = await freePort();
    const dir = tempDir();
    const serve = await startServe(dir, ['--dashboard-port', String(wanted)]);
    try {
      const match = DASHBOARD_URL.exec(serve.ready.dashboardUrl ?? '');
      expect(Number(match?.[1])).toBe(wanted);
      const stream = await fetch(`http://127.0.0.1:${wanted}/api/stream?token=${match?.[2]}`);
      expect(stream.status).toBe(200);
      const reader = stream.body?.getReader();
      await reader?.read();
      expect(await serve.stop('SIGTERM')).toBe(0);
      // The stream ends rather than hanging, and the port is free again.
      for (let part = await reader?.read(); part && !part.done; part = await reader?.read()) {}
      expect(await canConnect('127.0.0.1', wanted)).toBe(false);
    } finally {
      await serve.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a dashboard port already in use: exit 1 with a one-line message naming the flag', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const taken = (blocker.address() as { port: number }).port;
    const dir = tempDir();
    try {
      const result = await runCli([
        'serve',
        '--tunnel',
        'none',
        '--json',
        '--data-dir',
        dir,
        '--dashboard-port',
        String(taken),
      ]);
      expect(result.code).toBe(1);
      expect(result.stderr.trim().split('\n')).toEqual([
        `singlefile-monitor: port ${taken} is already in use; choose another with --dashboard-port`,
      ]);
    } finally {
      blocker.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
