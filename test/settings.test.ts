import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore } from '../electron/core/store.ts';
import {
  applySettingsPatch,
  DEFAULT_SETTINGS,
  loadSettings,
  type Settings,
  SettingsPatchSchema,
  SettingsSchema,
} from '../shared/settings.ts';
import { tempDir } from './helpers/fixtures.ts';

/** A deep copy, so that a test can check DEFAULT_SETTINGS was not changed. */
const pristine: Settings = structuredClone(DEFAULT_SETTINGS);

describe('DEFAULT_SETTINGS', () => {
  it('validates against the schema', () => {
    expect(SettingsSchema.parse(DEFAULT_SETTINGS)).toEqual(DEFAULT_SETTINGS);
  });

  it('notifies of completed orders and new documents by default, and keeps a year of history', () => {
    expect(DEFAULT_SETTINGS.notifications.defaultOn).toEqual(['order.completed', 'document.created']);
    expect(DEFAULT_SETTINGS.retention.maxAgeDays).toBe(365);
    expect(DEFAULT_SETTINGS.startAtLogin).toBe(false);
  });
});

describe('applySettingsPatch', () => {
  it('changes only the fields a section patch names', () => {
    const next = applySettingsPatch(DEFAULT_SETTINGS, { retention: { maxAgeDays: 30 } });
    expect(next.retention).toEqual({ maxAgeDays: 30, maxEvents: DEFAULT_SETTINGS.retention.maxEvents });
    expect(next.notifications).toEqual(DEFAULT_SETTINGS.notifications);
    expect(next.tunnel).toEqual(DEFAULT_SETTINGS.tunnel);
    expect(next.startAtLogin).toBe(false);
  });

  it('does not change the settings it starts from', () => {
    const current = structuredClone(DEFAULT_SETTINGS);
    applySettingsPatch(current, {
      retention: { maxAgeDays: 1 },
      notifications: { types: { 'task.created': true } },
      startAtLogin: true,
    });
    expect(current).toEqual(pristine);
    expect(DEFAULT_SETTINGS).toEqual(pristine);
  });

  it('applies several sections and startAtLogin at once, and an empty patch changes nothing', () => {
    const next = applySettingsPatch(DEFAULT_SETTINGS, {
      notifications: { digest: false, pausedUntil: 1_700_000_000_000 },
      tunnel: { provider: 'custom', customUrl: 'https://hooks.example.com/in' },
      startAtLogin: true,
    });
    expect(next.notifications).toMatchObject({ digest: false, pausedUntil: 1_700_000_000_000 });
    expect(next.notifications.defaultOn).toEqual(DEFAULT_SETTINGS.notifications.defaultOn);
    expect(next.tunnel).toEqual({
      ...DEFAULT_SETTINGS.tunnel,
      provider: 'custom',
      customUrl: 'https://hooks.example.com/in',
    });
    expect(next.startAtLogin).toBe(true);
    expect(applySettingsPatch(next, {})).toEqual(next);
    // startAtLogin stays true when a later patch does not mention it.
    expect(applySettingsPatch(next, { retention: { maxEvents: 10 } }).startAtLogin).toBe(true);
  });

  it('replaces a nested object of a section whole', () => {
    const quietHours = { enabled: true, start: '23:30', end: '06:15', allowTypes: ['order.completed'] };
    const next = applySettingsPatch(DEFAULT_SETTINGS, { notifications: { quietHours } });
    expect(next.notifications.quietHours).toEqual(quietHours);
    expect(next.notifications.types).toEqual({});
  });

  it('accepts null to lift a retention limit', () => {
    const next = applySettingsPatch(DEFAULT_SETTINGS, { retention: { maxAgeDays: null, maxEvents: null } });
    expect(next.retention).toEqual({ maxAgeDays: null, maxEvents: null });
  });

  it('ignores a field given as undefined instead of erasing it', () => {
    const next = applySettingsPatch(DEFAULT_SETTINGS, { retention: { maxAgeDays: undefined, maxEvents: 5 } });
    expect(next.retention).toEqual({ maxAgeDays: DEFAULT_SETTINGS.retention.maxAgeDays, maxEvents: 5 });
  });

  it.each([
    ['an unknown section', { colour: 'blue' }],
    ['an unknown field', { retention: { maxAgeDays: 3, forever: true } }],
    ['a zero age', { retention: { maxAgeDays: 0 } }],
    ['a fractional count', { retention: { maxEvents: 2.5 } }],
    ['a negative count', { retention: { maxEvents: -1 } }],
    [
      'a time of 24:00',
      { notifications: { quietHours: { enabled: true, start: '24:00', end: '07:00', allowTypes: [] } } },
    ],
    [
      'a time without a colon',
      { notifications: { quietHours: { enabled: true, start: '2200', end: '07:00', allowTypes: [] } } },
    ],
    ['a partial quietHours', { notifications: { quietHours: { enabled: true } } }],
    ['an unknown tunnel provider', { tunnel: { provider: 'ngrok' } }],
    ['a custom URL over plain http', { tunnel: { customUrl: 'http://hooks.example.com/in' } }],
    ['a tunnel host that is not a URL', { tunnel: { host: 'localtunnel' } }],
    ['a non-boolean startAtLogin', { startAtLogin: 'yes' }],
    ['a non-object patch', 'retention'],
  ])('refuses %s', (_label, patch) => {
    expect(() => applySettingsPatch(DEFAULT_SETTINGS, patch as never)).toThrow();
    expect(SettingsPatchSchema.safeParse(patch).success).toBe(false);
  });
});

describe('loadSettings', () => {
  it.each([undefined, null, 'garbage', 42, [], {}])('gives the defaults for %j', (saved) => {
    expect(loadSettings(saved)).toEqual(DEFAULT_SETTINGS);
  });

  it('gives back what applySettingsPatch made, through JSON', () => {
    const changed = applySettingsPatch(DEFAULT_SETTINGS, {
      notifications: { types: { 'task.created': true, 'order.completed': false }, digest: false },
      tunnel: { provider: 'none', subdomain: 'my-monitor' },
      retention: { maxAgeDays: 7 },
      startAtLogin: true,
    });
    expect(loadSettings(JSON.parse(JSON.stringify(changed)))).toEqual(changed);
  });

  it('fills fields missing from a saved section with their defaults', () => {
    const loaded = loadSettings({ retention: { maxAgeDays: 10 }, tunnel: { provider: 'none' } });
    expect(loaded.retention).toEqual({ maxAgeDays: 10, maxEvents: DEFAULT_SETTINGS.retention.maxEvents });
    expect(loaded.tunnel).toEqual({ ...DEFAULT_SETTINGS.tunnel, provider: 'none' });
    expect(loaded.notifications).toEqual(DEFAULT_SETTINGS.notifications);
  });

  it('drops fields an older version saved and no longer exist', () => {
    const loaded = loadSettings({ retention: { maxAgeDays: 10, compress: true }, legacy: 1 });
    expect(loaded.retention).toEqual({ maxAgeDays: 10, maxEvents: DEFAULT_SETTINGS.retention.maxEvents });
    expect(loaded).not.toHaveProperty('legacy');
    expect(SettingsSchema.safeParse(loaded).success).toBe(true);
  });

  it('fills a field missing from a nested object without losing the rest of the section', () => {
    // As an older version would have saved it: quietHours without allowTypes.
    const loaded = loadSettings({
      notifications: {
        types: { 'task.created': true },
        digest: false,
        quietHours: { enabled: true, start: '21:00', end: '06:00' },
      },
    });
    expect(loaded.notifications).toEqual({
      ...DEFAULT_SETTINGS.notifications,
      types: { 'task.created': true },
      digest: false,
      quietHours: { enabled: true, start: '21:00', end: '06:00', allowTypes: [] },
    });
  });

  it('drops an unknown field inside a nested object without losing the rest of the section', () => {
    const loaded = loadSettings({
      notifications: {
        types: { 'order.completed': false },
        quietHours: { enabled: true, start: '21:00', end: '06:00', allowTypes: [], weekendsOnly: true },
      },
    });
    expect(loaded.notifications.types).toEqual({ 'order.completed': false });
    expect(loaded.notifications.quietHours).toEqual({ enabled: true, start: '21:00', end: '06:00', allowTypes: [] });
  });

  it('keeps a saved __proto__ key out of the settings and out of Object.prototype', () => {
    const loaded = loadSettings(JSON.parse('{"retention":{"__proto__":{"maxAgeDays":1},"maxEvents":9}}'));
    expect(loaded.retention).toEqual({ maxAgeDays: DEFAULT_SETTINGS.retention.maxAgeDays, maxEvents: 9 });
    expect(Object.getPrototypeOf(loaded.retention)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).maxAgeDays).toBeUndefined();
  });

  it('falls back to the defaults of a section that does not validate, keeping the other sections', () => {
    const loaded = loadSettings({
      retention: { maxAgeDays: -3 },
      tunnel: { provider: 'none' },
      startAtLogin: true,
    });
    expect(loaded.retention).toEqual(DEFAULT_SETTINGS.retention);
    expect(loaded.tunnel.provider).toBe('none');
    expect(loaded.startAtLogin).toBe(true);
  });

  it('ignores a startAtLogin that is not a boolean, and sections that are not objects', () => {
    const loaded = loadSettings({ startAtLogin: 'true', retention: [1, 2], notifications: 'off' });
    expect(loaded).toEqual(DEFAULT_SETTINGS);
  });

  it('always returns settings that pass the full schema', () => {
    const inputs: unknown[] = [
      { notifications: { types: { a: 'yes' } } },
      { tunnel: { host: 'ftp://x' } },
      { retention: { maxEvents: 0 } },
      { notifications: { quietHours: { enabled: true } } },
    ];
    for (const saved of inputs) expect(SettingsSchema.safeParse(loadSettings(saved)).success).toBe(true);
    expect(DEFAULT_SETTINGS).toEqual(pristine);
  });
});

describe('settings in the store', () => {
  let dir: string;

  beforeEach(() => {
    dir = tempDir();
  });

  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('survive a restart of the store as the same settings', async () => {
    const file = join(dir, 'history.sqlite');
    const changed = applySettingsPatch(DEFAULT_SETTINGS, { retention: { maxAgeDays: 14 }, startAtLogin: true });
    const store = openStore(file);
    expect(loadSettings(store.getSetting('settings'))).toEqual(DEFAULT_SETTINGS);
    store.setSetting('settings', changed);
    await store.close();

    const reopened = openStore(file);
    try {
      expect(loadSettings(reopened.getSetting('settings'))).toEqual(changed);
    } finally {
      await reopened.close();
    }
  });
});
