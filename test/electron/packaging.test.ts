import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FuseState, FuseV1Options, getCurrentFuseWire } from '@electron/fuses';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/fixtures.ts';

/**
 * What `npm run dist` would use, checked without building an installer (which needs Electron's
 * binary): the electron-builder config against electron-builder's own schema, the afterPack hook
 * on a file that carries a fuse wire as Electron's binary does, and the electron-vite entries.
 */

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const require = createRequire(import.meta.url);
// @ts-expect-error -- a JavaScript hook for electron-builder, without type declarations
const hook = (await import('../../scripts/after-pack.mjs')) as {
  default: (context: object) => Promise<void>;
  electronBinaryPath: (context: object) => string;
};

/** Electron's fuse sentinel, then version 1, the wire's length and one byte per fuse. */
const SENTINEL = 'dL7pKGdnNz796PbbjQWNKmHXBZaB9tsX';
// Electron's defaults: RunAsNode on, cookie encryption off, NODE_OPTIONS on, --inspect on,
// ASAR integrity off, only-ASAR off, V8 snapshot off, file:// privileges on, Wasm traps on.
const DEFAULT_WIRE = '101100011';

describe('the afterPack hook flips the fuses', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('in the packaged Linux binary', async () => {
    const appOutDir = tempDir();
    dirs.push(appOutDir);
    const binary = join(appOutDir, 'singlefile-monitor');
    writeFileSync(
      binary,
      Buffer.concat([
        Buffer.from('\x7fELF…code…'),
        Buffer.from(SENTINEL),
        Buffer.from([1, DEFAULT_WIRE.length]),
        Buffer.from(DEFAULT_WIRE),
        Buffer.from('…more code'),
      ]),
    );
    await hook.default({
      appOutDir,
      electronPlatformName: 'linux',
      arch: 1,
      packager: { executableName: 'singlefile-monitor', appInfo: { productFilename: 'SingleFile Monitor' } },
    });
    const wire = await getCurrentFuseWire(binary);
    const on = (fuse: FuseV1Options) => wire[fuse] === FuseState.ENABLE;
    expect(on(FuseV1Options.RunAsNode)).toBe(false);
    expect(on(FuseV1Options.EnableNodeOptionsEnvironmentVariable)).toBe(false);
    expect(on(FuseV1Options.EnableNodeCliInspectArguments)).toBe(false);
    expect(on(FuseV1Options.OnlyLoadAppFromAsar)).toBe(true);
    expect(on(FuseV1Options.EnableEmbeddedAsarIntegrityValidation)).toBe(true);
    expect(on(FuseV1Options.EnableCookieEncryption)).toBe(true);
    // The window loads from file://, which needs these privileges: left as Electron ships it.
    expect(on(FuseV1Options.GrantFileProtocolExtraPrivileges)).toBe(true);
    expect(readFileSync(binary).includes('…more code')).toBe(true);
  });

  it.each([
    ['darwin', '/out/mac-arm64/SingleFile Monitor.app'],
    ['mas', '/out/mas/SingleFile Monitor.app'],
    ['win32', '/out/win-unpacked/SingleFile Monitor.exe'],
    ['linux', '/out/linux-unpacked/singlefile-monitor'],
  ])('finds the Electron binary on %s', (platform, expected) => {
    const appOutDir = expected.slice(0, expected.lastIndexOf('/'));
    const context = {
      appOutDir,
      electronPlatformName: platform,
      packager: { executableName: 'singlefile-monitor', appInfo: { productFilename: 'SingleFile Monitor' } },
    };
    expect(hook.electronBinaryPath(context)).toBe(expected);
  });
});

describe('electron-builder.yml', () => {
  it("passes electron-builder's own schema and names the hook, the icons and the targets", async () => {
    const { getConfig, validateConfiguration } = require('app-builder-lib/out/util/config/config.js') as {
      getConfig: (dir: string, path: string | null, extra: null) => Promise<Record<string, unknown>>;
      validateConfiguration: (config: object, logger: object) => Promise<void>;
    };
    const { DebugLogger } = require('builder-util') as { DebugLogger: new (enabled: boolean) => object };
    const config = await getConfig(ROOT, null, null);
    await validateConfiguration(config, new DebugLogger(false));
    expect(config).toMatchObject({
      appId: 'io.singlefile.monitor',
      productName: 'SingleFile Monitor',
      afterPack: './scripts/after-pack.mjs',
      mac: { target: 'dmg' },
      win: { target: 'nsis' },
      linux: { target: ['AppImage', 'deb'] },
      // The tray images, the count badges among them, are read from disk next to app.asar.
      extraResources: [{ from: 'build/tray', to: 'tray' }],
    });
    expect(existsSync(join(ROOT, 'build/icon.png'))).toBe(true);
    const main = readFileSync(join(ROOT, 'electron/main.ts'), 'utf8');
    expect(main).toContain(`const APP_ID = '${config.appId}'`);
    expect(main).toContain("join(process.resourcesPath, 'tray')");
  });
});

describe('electron.vite.config.ts', () => {
  it('builds main and preload from electron/ and the window from renderer/', async () => {
    const { default: config } = (await import('../../electron.vite.config.ts')) as {
      default: {
        main: { build: { rolldownOptions: { input: Record<string, string> } } };
        preload: { build: { externalizeDeps: boolean; rolldownOptions: { input: Record<string, string> } } };
        renderer: { root: string; build: { rolldownOptions: { input: string } } };
      };
    };
    expect(config.main.build.rolldownOptions.input).toEqual({ main: join(ROOT, 'electron/main.ts') });
    expect(config.preload.build.rolldownOptions.input).toEqual({ preload: join(ROOT, 'electron/preload.ts') });
    // A sandboxed preload cannot load packages: everything it uses is bundled into it.
    expect(config.preload.build.externalizeDeps).toBe(false);
    expect(config.renderer.build.rolldownOptions.input).toBe(join(ROOT, 'renderer/index.html'));
    for (const entry of [
      config.main.build.rolldownOptions.input.main,
      config.preload.build.rolldownOptions.input.preload,
    ]) {
      expect(existsSync(entry ?? ''), entry).toBe(true);
    }
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { main?: string };
    expect(pkg.main).toBe('out/main/main.js');
  });

  it('puts the CSP into the built page, first thing in its <head>', async () => {
    const { cspMetaTag } = await import('../../electron.vite.config.ts');
    const { contentSecurityPolicy } = await import('../../electron/window.ts');
    const plugin = cspMetaTag();
    expect(plugin.apply).toBe('build');
    const transform = plugin.transformIndexHtml as { order: string; handler: () => unknown };
    expect(transform.handler()).toEqual([
      {
        tag: 'meta',
        attrs: { 'http-equiv': 'Content-Security-Policy', content: contentSecurityPolicy() },
        injectTo: 'head-prepend',
      },
    ]);
  });
});
