import { describe, expect, it } from 'vitest';
import { hasTokenInHash, type PickEnv, pickTransport } from '../../renderer/api.ts';
import type { DashboardClientOptions, Transport } from '../../renderer/dashboard-client.ts';
import { downloadFile } from '../../renderer/download.ts';
import { createFakeMonitor } from './fake-monitor.ts';

const TOKEN = 'A'.repeat(43);

function env(hash: string, options: { monitor?: PickEnv['window']['monitor']; stored?: string } = {}) {
  const storage = new Map<string, string>(options.stored ? [['sfm.dashboardToken', options.stored]] : []);
  const replaced: string[] = [];
  const created: DashboardClientOptions[] = [];
  const value: PickEnv = {
    window: {
      ...(options.monitor ? { monitor: options.monitor } : {}),
      location: { hash, origin: 'http://127.0.0.1:43117', pathname: '/', search: '' },
    },
    history: { replaceState: (_state, _title, url) => void replaced.push(String(url)) },
    storage: { getItem: (key) => storage.get(key) ?? null, setItem: (key, v) => void storage.set(key, v) },
    createDashboardClient: (opts) => {
      created.push(opts);
      return createFakeMonitor().transport as Transport;
    },
  };
  return { value, storage, replaced, created };
}

describe('pickTransport', () => {
  it("uses window.monitor (the tray app's preload) when it is there, and never the network", async () => {
    const fake = createFakeMonitor();
    const bridge = { ...fake.api, saveExport: fake.transport.saveExport };
    const e = env(`#token=${TOKEN}`, { monitor: bridge });
    const transport = pickTransport(e.value);
    expect(transport?.api).toBe(bridge);
    expect(transport?.connection.get()).toBe('live');
    // The export goes to the main process, which asks where to save it.
    expect(await transport?.saveExport({ format: 'csv' })).toEqual({
      filename: 'singlefile-events-2024-01-15.csv',
      count: 0,
    });
    expect(fake.exports).toEqual([{ format: 'csv' }]);
    expect(e.created).toEqual([]);
  });

  it('otherwise takes the token from the link, keeps it for reloads and takes it out of the address bar', () => {
    const e = env(`#token=${TOKEN}`);
    expect(pickTransport(e.value)).not.toBeNull();
    expect(e.created).toEqual([{ baseUrl: 'http://127.0.0.1:43117', token: TOKEN, saveFile: downloadFile }]);
    expect(e.storage.get('sfm.dashboardToken')).toBe(TOKEN);
    expect(e.replaced).toEqual(['/#/']);
  });

  it('after a reload, finds the token kept for this tab', () => {
    const e = env('#/history?q=cert', { stored: TOKEN });
    expect(pickTransport(e.value)).not.toBeNull();
    expect(e.created[0]?.token).toBe(TOKEN);
    expect(e.replaced).toEqual([]);
  });

  it("recognises a new link's token in the fragment, and nothing else", () => {
    expect(hasTokenInHash(`#token=${TOKEN}`)).toBe(true);
    expect(hasTokenInHash('#/history?q=token')).toBe(false);
    expect(hasTokenInHash('#token=short')).toBe(false);
  });

  it('without a token anywhere, gives nothing (the page then explains how to open it)', () => {
    expect(pickTransport(env('#/').value)).toBeNull();
    expect(pickTransport(env('#token=short').value)).toBeNull();
  });
});
