import { describe, expect, it } from 'vitest';
import { silentLogger } from '../electron/core/log.ts';
import {
  backoffDelay,
  createTunnelSupervisor,
  type TunnelMemory,
  type TunnelProvider,
  type TunnelSession,
  type TunnelSupervisor,
} from '../electron/core/tunnel.ts';
import { isValidSubdomain, localtunnelNames, newSubdomain, subdomainOf } from '../electron/core/tunnel-localtunnel.ts';
import type { Notice, TunnelStatus } from '../shared/api.ts';

// The supervisor's state machine against a scripted provider: the provider and the probe are
// the supervisor's injected side effects. The real localtunnel client is tested in tunnel.test.ts.

const FAST = {
  openTimeoutMs: 500,
  selfTestIntervalMs: 50,
  selfTestTimeoutMs: 100,
  backoffBaseMs: 10,
  backoffMaxMs: 40,
  offlineNoticeAfterMs: 100,
};

interface ScriptedSession extends TunnelSession {
  fail(error: Error): void;
  closed: boolean;
}

function scriptedProvider(outcomes: Array<string | Error>) {
  const asked: Array<string | null> = [];
  const sessions: ScriptedSession[] = [];
  const provider: TunnelProvider = {
    kind: 'localtunnel',
    label: 'the tunnel server',
    names: localtunnelNames,
    async open({ subdomain }) {
      asked.push(subdomain);
      const next = outcomes.length > 1 ? outcomes.shift() : outcomes[0];
      if (next instanceof Error || next === undefined) throw next ?? new Error('no script');
      let listener: ((error: Error) => void) | null = null;
      const session: ScriptedSession = {
        url: next.replace('{name}', subdomain ?? 'random'),
        closed: false,
        onFailure(l) {
          listener = l;
        },
        fail(error) {
          listener?.(error);
        },
        close() {
          session.closed = true;
        },
      };
      sessions.push(session);
      return session;
    },
  };
  return { provider, asked, sessions };
}

function memory(initial: { subdomain: string | null; publicUrl: string | null }) {
  const state = { ...initial };
  const store: TunnelMemory = {
    load: () => ({ ...state }),
    saveSubdomain(name) {
      state.subdomain = name;
    },
    savePublicUrl(url) {
      state.publicUrl = url;
    },
  };
  return { store, state };
}

function harness(
  provider: TunnelProvider,
  mem: TunnelMemory,
  probe: (supervisor: () => TunnelSupervisor, url: string) => Promise<number>,
) {
  const statuses: TunnelStatus[] = [];
  const notices: Notice[] = [];
  const supervisor: TunnelSupervisor = createTunnelSupervisor({
    provider,
    localPort: 1,
    memory: mem,
    probe: (url) => probe(() => supervisor, url),
    log: silentLogger,
    onStatus: (s) => statuses.push(s),
    onNotice: (n) => notices.push(n),
    timing: FAST,
  });
  const waitFor = async (predicate: (s: TunnelStatus) => boolean, what: string) => {
    for (let i = 0; i < 400; i++) {
      if (predicate(supervisor.status())) return supervisor.status();
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    throw new Error(`timed out waiting for ${what}; last status ${JSON.stringify(supervisor.status())}`);
  };
  return { supervisor, statuses, notices, waitFor };
}

/** A probe that behaves like the real path: the receiver sees the nonce, then the answer is 200. */
const healthyProbe = async (supervisor: () => TunnelSupervisor, url: string) => {
  supervisor().probeSeen(new URL(url).searchParams.get('probe') ?? '');
  return 200;
};

describe('tunnel names', () => {
  it('makes subdomains localtunnel accepts', () => {
    for (let i = 0; i < 50; i++) {
      const name = newSubdomain();
      expect(name).toMatch(/^sfm-[a-z0-9]{12}$/);
      expect(isValidSubdomain(name)).toBe(true);
    }
    expect(isValidSubdomain('Bad_Name')).toBe(false);
    expect(isValidSubdomain('abc')).toBe(false);
    expect(subdomainOf('https://sfm-abc123def456.loca.lt')).toBe('sfm-abc123def456');
  });

  it('backs off exponentially with jitter, capped', () => {
    const timing = { backoffBaseMs: 1000, backoffMaxMs: 60_000 };
    expect(backoffDelay(1, timing, () => 0)).toBe(500);
    expect(backoffDelay(1, timing, () => 1)).toBe(1000);
    expect(backoffDelay(3, timing, () => 1)).toBe(4000);
    expect(backoffDelay(20, timing, () => 1)).toBe(60_000);
    expect(backoffDelay(20, timing, () => 0)).toBe(30_000);
  });
});

describe('tunnel supervisor', () => {
  it('goes connecting → online, asks for the saved name and self-tests through the public URL', async () => {
    const { provider, asked } = scriptedProvider(['https://{name}.loca.lt']);
    const mem = memory({ subdomain: 'sfm-keepthisname', publicUrl: 'https://sfm-keepthisname.loca.lt' });
    const probed: string[] = [];
    const h = harness(provider, mem.store, (s, url) => {
      probed.push(url);
      return healthyProbe(s, url);
    });
    h.supervisor.start();
    const online = await h.waitFor((s) => s.selfTest?.ok === true, 'a passing self-test');
    h.supervisor.stop();
    expect(h.statuses.map((s) => s.state).slice(0, 2)).toEqual(['connecting', 'online']);
    expect(asked[0]).toBe('sfm-keepthisname');
    expect(online.publicUrl).toBe('https://sfm-keepthisname.loca.lt');
    expect(online.urlChanged).toBeNull();
    expect(probed[0]).toMatch(/^https:\/\/sfm-keepthisname\.loca\.lt\/healthz\?probe=[\w-]{22}$/);
    expect(h.notices).toEqual([]);
    expect(h.supervisor.status().state).toBe('stopped');
  });

  it('makes a name once and keeps asking for it', async () => {
    const { provider, asked } = scriptedProvider([new Error('down'), new Error('down'), 'https://{name}.loca.lt']);
    const mem = memory({ subdomain: null, publicUrl: null });
    const h = harness(provider, mem.store, healthyProbe);
    h.supervisor.start();
    await h.waitFor((s) => s.state === 'online', 'online');
    h.supervisor.stop();
    expect(asked).toHaveLength(3);
    expect(new Set(asked).size).toBe(1);
    expect(mem.state.subdomain).toBe(asked[0]);
  });

  it('says loudly when the server grants another URL, and adopts it', async () => {
    const { provider } = scriptedProvider(['https://random-other-name.loca.lt']);
    const mem = memory({ subdomain: 'sfm-mine', publicUrl: 'https://sfm-mine.loca.lt' });
    const h = harness(provider, mem.store, healthyProbe);
    h.supervisor.start();
    const online = await h.waitFor((s) => s.state === 'online', 'online');
    h.supervisor.stop();
    expect(online.urlChanged).toEqual({ from: 'https://sfm-mine.loca.lt', to: 'https://random-other-name.loca.lt' });
    expect(h.notices.map((n) => n.kind)).toEqual(['url-changed']);
    expect(h.notices[0]?.body).toContain('https://random-other-name.loca.lt');
    expect(mem.state).toEqual({ subdomain: 'random-other-name', publicUrl: 'https://random-other-name.loca.lt' });
  });

  it('reports why it is offline and retries with backoff until the server is back', async () => {
    const { provider, asked } = scriptedProvider([
      new Error('localtunnel.me did not answer in 10 s'),
      new Error('localtunnel.me did not answer in 10 s'),
      'https://{name}.loca.lt',
    ]);
    const h = harness(provider, memory({ subdomain: 'sfm-name', publicUrl: null }).store, healthyProbe);
    h.supervisor.start();
    await h.waitFor((s) => s.state === 'online', 'online');
    h.supervisor.stop();
    const offline = h.statuses.filter((s) => s.state === 'offline');
    expect(offline[0]?.lastError).toBe('localtunnel.me did not answer in 10 s');
    expect(offline.map((s) => s.attempts)).toEqual([1, 2]);
    expect(h.statuses.some((s) => s.state === 'reconnecting')).toBe(true);
    expect(asked).toHaveLength(3);
  });

  it('opens a fresh tunnel when the open one fails', async () => {
    const { provider, sessions } = scriptedProvider(['https://{name}.loca.lt']);
    const h = harness(provider, memory({ subdomain: 'sfm-name', publicUrl: null }).store, healthyProbe);
    h.supervisor.start();
    await h.waitFor((s) => s.state === 'online', 'online');
    sessions[0]?.fail(new Error('connection refused: 127.0.0.1:1234'));
    expect(h.supervisor.status().state).toBe('offline');
    expect(h.supervisor.status().lastError).toBe('connection refused: 127.0.0.1:1234');
    expect(sessions[0]?.closed).toBe(true);
    await h.waitFor((s) => s.state === 'online' && sessions.length === 2, 'a second session');
    h.supervisor.stop();
    expect(sessions[1]?.url).toBe(sessions[0]?.url);
  });

  it('goes offline and reconnects after two missed self-tests', async () => {
    const { provider, sessions } = scriptedProvider(['https://{name}.loca.lt']);
    let forwarding = false;
    const h = harness(provider, memory({ subdomain: 'sfm-name', publicUrl: null }).store, async (s, url) => {
      if (forwarding) return healthyProbe(s, url);
      return 200; // something answers, but the receiver never sees the probe
    });
    h.supervisor.start();
    const offline = await h.waitFor((s) => s.state === 'offline', 'offline after missed self-tests');
    expect(offline.lastError).toMatch(/^self-test failed twice: no answer through the tunnel server/);
    expect(sessions[0]?.closed).toBe(true);
    forwarding = true;
    await h.waitFor((s) => s.state === 'online' && s.selfTest?.ok === true, 'back online');
    h.supervisor.stop();
    expect(sessions.length).toBeGreaterThanOrEqual(2);
  });

  it('tells when offline for long, and again when back', async () => {
    let up = false;
    const provider: TunnelProvider = {
      kind: 'localtunnel',
      label: 'the tunnel server',
      names: localtunnelNames,
      async open() {
        if (!up) throw new Error('localtunnel.me could not be reached (ECONNREFUSED)');
        return { url: 'https://sfm-name.loca.lt', onFailure() {}, close() {} };
      },
    };
    const h = harness(provider, memory({ subdomain: 'sfm-name', publicUrl: null }).store, healthyProbe);
    h.supervisor.start();
    // Waited for, not slept on: a loaded machine may run the notice's timer late.
    await h.waitFor(() => h.notices.length > 0, 'the offline notice');
    expect(h.notices.map((n) => n.kind)).toEqual(['tunnel-offline']);
    expect(h.supervisor.status().state).not.toBe('online');
    up = true;
    await h.waitFor((s) => s.state === 'online', 'online');
    h.supervisor.stop();
    expect(h.notices.map((n) => n.kind)).toEqual(['tunnel-offline', 'tunnel-online']);
  });

  it('closes a tunnel that finishes opening after stop', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let closed = false;
    const provider: TunnelProvider = {
      kind: 'localtunnel',
      label: 'the tunnel server',
      names: localtunnelNames,
      async open() {
        await gate;
        return {
          url: 'https://sfm-name.loca.lt',
          onFailure() {},
          close() {
            closed = true;
          },
        };
      },
    };
    const h = harness(provider, memory({ subdomain: 'sfm-name', publicUrl: null }).store, healthyProbe);
    h.supervisor.start();
    h.supervisor.stop();
    release();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(closed).toBe(true);
    expect(h.supervisor.status().state).toBe('stopped');
  });

  it('answers an on-demand self-test while offline with the reason', async () => {
    const { provider } = scriptedProvider([new Error('down')]);
    const h = harness(provider, memory({ subdomain: 'sfm-name', publicUrl: null }).store, healthyProbe);
    h.supervisor.start();
    await h.waitFor((s) => s.state === 'offline', 'offline');
    const result = await h.supervisor.selfTest();
    h.supervisor.stop();
    expect(result).toMatchObject({ ok: false, rttMs: null, error: 'the tunnel is not online' });
  });
});
