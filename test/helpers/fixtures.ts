import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EventSchema, type SingleFileEvent } from '../../shared/events.ts';

/**
 * The sample events live in `shared/` next to the repository (`../shared` from its root), both
 * here and in CI, so the path is resolved from this file, never from an absolute location.
 */
export const FIXTURE_DIR = fileURLToPath(new URL('../../../shared/fixtures/events/', import.meta.url));

export interface Fixture {
  /** The file's name without `.json`: the event type it samples. */
  name: string;
  /** The file's text, as SingleFile would send it. */
  raw: string;
  /** The parsed object as the receiver keeps it (not zod's copy). */
  event: SingleFileEvent;
}

/** Every sample event, sorted by name; each must be a valid event. */
export function loadFixtures(): Fixture[] {
  const names = readdirSync(FIXTURE_DIR)
    .filter((file) => file.endsWith('.json'))
    .sort();
  if (names.length === 0) throw new Error(`no fixtures found in ${FIXTURE_DIR}`);
  return names.map((file) => {
    const raw = readFileSync(join(FIXTURE_DIR, file), 'utf8');
    const value: unknown = JSON.parse(raw);
    EventSchema.parse(value);
    return { name: file.slice(0, -'.json'.length), raw, event: value as SingleFileEvent };
  });
}

/** A fresh, empty directory under the OS temp dir; the caller removes it (rmSync) afterwards. */
export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'sfm-test-'));
}
