#!/usr/bin/env node
// Packs the tray app for Linux (an unpacked folder, the step before AppImage and deb) with a
// stand-in for Electron's binary: a small file carrying the fuse wire where Electron keeps it.
// Everything electron-builder does to our files is then checked without downloading Electron:
// what goes into app.asar, the tray icons beside it, and the fuses the afterPack hook flips.
// Run after `npx electron-vite build`. Exit 1 with the reasons when something is missing.
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FuseState, FuseV1Options, getCurrentFuseWire } from '@electron/fuses';
import { build, Platform } from 'electron-builder';

const root = fileURLToPath(new URL('..', import.meta.url));
const require = createRequire(import.meta.url);
// electron-builder's own asar reader (a dependency of electron-builder, not of the app).
const asar = require(require.resolve('@electron/asar', { paths: [require.resolve('app-builder-lib')] }));
const electronVersion = require('electron/package.json').version;

const work = mkdtempSync(join(tmpdir(), 'sfm-pack-'));
const problems = [];
try {
  // The stand-in: Electron's fuse sentinel, wire version 1, nine fuses as Electron ships them.
  const fakeElectron = join(work, 'electron-dist');
  mkdirSync(fakeElectron);
  writeFileSync(
    join(fakeElectron, 'electron'),
    Buffer.concat([
      Buffer.from('#!/bin/sh\necho "a stand-in for Electron"\n'),
      Buffer.from('dL7pKGdnNz796PbbjQWNKmHXBZaB9tsX'),
      Buffer.from([1, 9]),
      Buffer.from('101100011'),
    ]),
  );
  chmodSync(join(fakeElectron, 'electron'), 0o755);
  writeFileSync(join(fakeElectron, 'LICENSE'), 'stand-in\n');
  writeFileSync(join(fakeElectron, 'version'), electronVersion);
  mkdirSync(join(fakeElectron, 'resources'));

  const output = join(work, 'dist');
  await build({
    projectDir: root,
    targets: Platform.LINUX.createTarget('dir'),
    config: { electronDist: fakeElectron, directories: { output } },
  });

  const appDir = join(output, 'linux-unpacked');
  const wire = await getCurrentFuseWire(join(appDir, 'singlefile-monitor'));
  const expected = {
    RunAsNode: false,
    EnableNodeOptionsEnvironmentVariable: false,
    EnableNodeCliInspectArguments: false,
    OnlyLoadAppFromAsar: true,
    EnableEmbeddedAsarIntegrityValidation: true,
    EnableCookieEncryption: true,
  };
  for (const [name, on] of Object.entries(expected)) {
    if ((wire[FuseV1Options[name]] === FuseState.ENABLE) !== on)
      problems.push(`fuse ${name} is not ${on ? 'on' : 'off'}`);
  }

  const entries = new Set(asar.listPackage(join(appDir, 'resources', 'app.asar')).map((p) => p.replaceAll('\\', '/')));
  for (const needed of [
    '/package.json',
    '/out/main/main.js',
    '/out/preload/preload.cjs',
    '/out/renderer/index.html',
    '/node_modules/localtunnel/package.json',
    '/node_modules/zod/package.json',
  ]) {
    if (!entries.has(needed)) problems.push(`app.asar lacks ${needed}`);
  }
  for (const entry of entries) {
    if (/^\/(electron|shared|test|renderer|scripts|out\/dashboard)\//.test(entry) || entry.endsWith('.map')) {
      problems.push(`app.asar carries ${entry}, which the app does not need`);
    }
  }

  // Every drawn image is packed (test/electron/tray-menu.test.ts checks that build/tray holds
  // each one trayIconFile can choose); these names are a floor in case build/tray went missing.
  const trayDir = join(appDir, 'resources', 'tray');
  const trayFiles = existsSync(trayDir) ? readdirSync(trayDir) : [];
  const drawn = readdirSync(join(root, 'build', 'tray')).filter((file) => file.endsWith('.png'));
  const floor = ['online', 'connecting', 'offline', 'paused'].flatMap((state) =>
    [`${state}Template`, state, `${state}-1`, `${state}-9`, `${state}-9plus`].flatMap((name) => [
      `${name}.png`,
      `${name}@2x.png`,
    ]),
  );
  for (const file of new Set([...floor, ...drawn, 'app.png'])) {
    if (!trayFiles.includes(file)) problems.push(`resources/tray lacks ${file}`);
  }

  process.stdout.write(
    `packed ${entries.size} entries into app.asar, ${trayFiles.length} tray images, fuses: ${Object.keys(expected).length} checked\n`,
  );
} catch (error) {
  problems.push(`packaging failed: ${error instanceof Error ? error.message : String(error)}`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
if (problems.length > 0) {
  process.stderr.write(`${problems.map((p) => `check-packaging: ${p}`).join('\n')}\n`);
  process.exit(1);
}
process.stdout.write('check-packaging: ok\n');
