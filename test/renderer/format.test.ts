import { describe, expect, it } from 'vitest';
import { describeTunnel, formatDuration, formatRelative } from '../../renderer/format.ts';
import type { Status } from '../../shared/api.ts';

const tunnel = (change: Partial<Status['tunnel']>): Status['tunnel'] => ({
  provider: 'localtunnel',
  state: 'online',
  publicUrl: null,
  since: '2024-01-15T10:00:00Z',
  attempts: 0,
  lastError: null,
  urlChanged: null,
  selfTest: null,
  ...change,
});

describe('describeTunnel: the tunnel state in words', () => {
  it('online, connecting, reconnecting, offline (with the reason), stopped, none', () => {
    expect(describeTunnel(tunnel({ state: 'online' }))).toMatchObject({ tone: 'ok', title: 'Online' });
    expect(describeTunnel(tunnel({ state: 'connecting' }))).toMatchObject({ tone: 'busy', title: 'Connecting…' });
    expect(describeTunnel(tunnel({ state: 'reconnecting' })).title).toBe('Reconnecting…');
    const offline = describeTunnel(tunnel({ state: 'offline', lastError: 'the tunnel server did not answer' }));
    expect(offline).toMatchObject({ tone: 'warn', title: 'Offline' });
    expect(offline.detail).toContain('the tunnel server did not answer');
    expect(describeTunnel(tunnel({ state: 'stopped' })).title).toBe('Stopped');
    expect(describeTunnel(tunnel({ provider: 'none', state: 'stopped' }))).toMatchObject({
      tone: 'off',
      title: 'No tunnel',
    });
  });
});

describe('formatRelative and formatDuration', () => {
  const now = Date.parse('2024-01-15T12:00:00Z');

  it('says "just now", then minutes, then a time or a date', () => {
    expect(formatRelative('2024-01-15T11:59:40Z', now)).toBe('just now');
    expect(formatRelative('2024-01-15T11:55:00Z', now)).toBe('5 min ago');
    expect(formatRelative('2023-06-01T10:00:00Z', now, 'en-US')).toMatch(/2023/);
    expect(formatRelative('not a date', now)).toBe('not a date');
  });

  it('reads durations in the largest units that fit', () => {
    expect(formatDuration(42_000)).toBe('42 s');
    expect(formatDuration(5 * 60_000)).toBe('5 min');
    expect(formatDuration(3 * 3_600_000 + 12 * 60_000)).toBe('3 h 12 min');
    expect(formatDuration(2 * 86_400_000 + 5 * 3_600_000)).toBe('2 d 5 h');
  });
});
