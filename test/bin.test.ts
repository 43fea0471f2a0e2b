/**
 * The entry point's Node.js check, in real processes. The check reads process.versions, so an
 * older Node is stood in for by a preload that gives the process that version before the entry
 * point runs; everything else about the process is real.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from './helpers/cli.ts';

function runAs(version: string | null, args: string[]) {
  const preload = version
    ? [
        '--import',
        `data:text/javascript,${encodeURIComponent(
          `Object.defineProperty(process.versions, 'node', { value: '${version}' });` +
            `Object.defineProperty(process, 'version', { value: 'v${version}' });`,
        )}`,
      ]
    : [];
  return spawnSync(process.execPath, [...preload, 'bin/singlefile-monitor.js', ...args], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
  });
}

describe('bin/singlefile-monitor.js', () => {
  it.each(['20.19.0', '22.18.0', '22.99.0', '23.11.0'])(
    'refuses Node.js %s with one line naming Node.js 24, as engines does',
    (version) => {
      const run = runAs(version, ['--help']);
      expect(run.status).toBe(1);
      expect(run.stdout).toBe('');
      expect(run.stderr).toBe(
        `singlefile-monitor: needs Node.js 24 or newer (this is v${version}); see README.md, "Troubleshooting".\n`,
      );
    },
  );

  it('runs on Node.js 24', () => {
    for (const version of ['24.0.0', null]) {
      const run = runAs(version, ['--help']);
      expect([version, run.status, run.stderr]).toEqual([version, 0, '']);
      expect(run.stdout).toMatch(/singlefile-monitor serve/);
    }
  });
});
