import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

// The layout's rules (ARCHITECTURE.md): shared/ imports nothing from the other trees and no
// runtime APIs; electron/core/ never imports Electron, so it runs in the CLI and in tests.
const root = new URL('..', import.meta.url).pathname;

function sources(dir: string): string[] {
  return readdirSync(join(root, dir), { recursive: true, encoding: 'utf8' })
    .filter((file) => /\.tsx?$/.test(file))
    .map((file) => join(root, dir, file));
}

function imports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/^\s*(?:import|export)\b[^'"]*?from\s+['"]([^'"]+)['"]/gm)].map((m) => m[1] ?? '');
}

describe('module boundaries', () => {
  it('shared/ imports only zod and its own files', () => {
    for (const file of sources('shared')) {
      for (const spec of imports(file)) {
        expect(spec === 'zod' || /^\.\/[\w-]+\.ts$/.test(spec), `${relative(root, file)} imports ${spec}`).toBe(true);
      }
    }
  });

  it('electron/core/ never imports electron or the renderer', () => {
    const files = sources('electron/core');
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) {
      for (const spec of imports(file)) {
        expect(spec === 'electron' || spec.startsWith('electron/'), `${relative(root, file)} imports ${spec}`).toBe(
          false,
        );
        expect(spec.includes('renderer/'), `${relative(root, file)} imports ${spec}`).toBe(false);
      }
    }
  });
});
