import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cspMetaTag } from '../../electron.vite.config.ts';
import { tempDir } from '../helpers/fixtures.ts';

/**
 * The security scan of .ci/run: the main process's sources and the page the window loads, as one
 * app. The page is renderer/index.html with the CSP <meta> that the build puts first in <head>
 * (the tag comes from the build's own plugin), so this needs no build of the renderer.
 */

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

function builtPage(html: string): string {
  const transform = cspMetaTag().transformIndexHtml as {
    handler: () => Array<{ tag: string; attrs: Record<string, string> }>;
  };
  const tags = transform.handler().map(
    ({ tag, attrs }) =>
      `<${tag} ${Object.entries(attrs)
        .map(([k, v]) => `${k}="${v}"`)
        .join(' ')}>`,
  );
  return html.replace(/<head>\n/, (head) => `${head}    ${tags.join('\n    ')}\n`);
}

describe('electronegativity over electron/ and the built page', () => {
  let dir: string;
  let page: string;
  let report: string;
  const indexHtml = readFileSync(join(ROOT, 'renderer/index.html'), 'utf8');

  const scan = (...inputs: string[]) => {
    const result = spawnSync(
      process.execPath,
      [
        'scripts/electronegativity.cjs',
        ...inputs.flatMap((input) => ['-i', input]),
        '-o',
        report,
        '--fail-on-findings',
      ],
      { cwd: ROOT, encoding: 'utf8' },
    );
    const findings = readFileSync(report, 'utf8').trim().split('\n').slice(1);
    return { code: result.status, findings: findings.map((line) => line.split(',')[0]) };
  };

  beforeAll(() => {
    dir = tempDir();
    page = join(dir, 'renderer');
    mkdirSync(page);
    report = join(dir, 'report.csv');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('finds nothing unexplained when given both, as .ci/run does', () => {
    writeFileSync(join(page, 'index.html'), builtPage(indexHtml));
    expect(readFileSync(join(page, 'index.html'), 'utf8')).toContain('http-equiv="Content-Security-Policy"');
    expect(scan('electron', page)).toEqual({ code: 0, findings: [] });
  });

  it("reads the page's CSP: without the explanation in renderer/index.html, its one finding shows", () => {
    writeFileSync(join(page, 'index.html'), builtPage(indexHtml.replace(/^<!-- eng-disable [^\n]*\n/, '')));
    expect(scan('electron', page)).toEqual({ code: 1, findings: ['CSP_GLOBAL_CHECK'] });
  });

  it("sees the main process's guards only when it scans them with the page", () => {
    writeFileSync(join(page, 'index.html'), builtPage(indexHtml));
    expect(scan(page).findings.sort()).toEqual([
      'LIMIT_NAVIGATION_GLOBAL_CHECK',
      'PERMISSION_REQUEST_HANDLER_GLOBAL_CHECK',
    ]);
  });
});
