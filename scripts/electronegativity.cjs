#!/usr/bin/env node
// Runs @doyensec/electronegativity offline, with the TypeScript parser it was built for.
//   node scripts/electronegativity.cjs -i electron -i out/renderer -o report.csv --fail-on-findings
// Without -e it passes the installed Electron's version (the scanned folder has no package.json
// to read it from). --fail-on-findings: exit 1 when the report has any finding, since
// electronegativity itself exits 0 whatever it finds.
// Several -i are scanned as one app (electronegativity takes one input): its global checks, such
// as "navigation is limited somewhere", must see the main process and the page together, or a
// scan of the page alone reports the main process's handlers as missing. The inputs are linked
// into one temporary folder under their own relative names, and the report names files that way.
//
// Two things stop a plain `npx electronegativity` here:
// 1. Its parser (@typescript-eslint/typescript-estree 4) takes `typescript` as a peer, so it gets
//    the project's TypeScript 7, the native compiler without the JavaScript API (`ts.SyntaxKind`
//    is undefined): it crashes before reading a file. electronegativity installs its own
//    TypeScript 4 beside it; the parser is pointed there.
// 2. It downloads translations and Electron's release list with `got`; offline, got's retry
//    timer throws from inside p-cancelable after the request has already failed, which kills
//    the process at a random point. Its requests fail at once here instead, which it handles
//    ("No connectivity?"): the only check lost is "a newer Electron has security fixes" —
//    `npm outdated electron` answers that.
'use strict';
const fs = require('node:fs');
const Module = require('node:module');
const path = require('node:path');

const cliPath = require.resolve('@doyensec/electronegativity/dist/index.js');
const packageDir = path.dirname(path.dirname(cliPath));
const bundledTypescript = require.resolve('typescript', { paths: [packageDir] });
const inside = (parent, name) => parent?.filename?.includes(`${path.sep}${name}${path.sep}`) === true;

function offline() {
  return Promise.reject(new Error('offline: electronegativity makes no network requests here'));
}
offline.head = offline;
offline.get = offline;

const resolveFilename = Module._resolveFilename;
Module._resolveFilename = function resolve(request, parent, ...rest) {
  if (request === 'typescript' && inside(parent, '@typescript-eslint')) return bundledTypescript;
  return resolveFilename.call(this, request, parent, ...rest);
};
const load = Module._load;
Module._load = function loadOffline(request, parent, ...rest) {
  if (request === 'got' && inside(parent, 'electronegativity')) return { __esModule: true, default: offline };
  return load.call(this, request, parent, ...rest);
};

const args = process.argv.slice(2);
const failOnFindings = args.includes('--fail-on-findings');
const inputs = [];
const passed = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '-i' || args[i] === '--input') inputs.push(args[++i]);
  else if (args[i] !== '--fail-on-findings') passed.push(args[i]);
}
if (inputs.length === 1) passed.push('-i', inputs[0]);
if (inputs.length > 1) {
  const root = fs.mkdtempSync(path.join(require('node:os').tmpdir(), 'electronegativity-'));
  process.on('exit', () => fs.rmSync(root, { recursive: true, force: true }));
  for (const input of inputs) {
    // Its path from here, or its own name when it lies elsewhere.
    const inside = path.relative(process.cwd(), path.resolve(input));
    const name = inside && !inside.startsWith('..') && !path.isAbsolute(inside) ? inside : path.basename(input);
    if (fs.existsSync(path.join(root, name))) {
      console.error(`two inputs with the same name: ${name}`);
      process.exit(2);
    }
    fs.mkdirSync(path.dirname(path.join(root, name)), { recursive: true });
    fs.symlinkSync(path.resolve(input), path.join(root, name), 'dir');
  }
  passed.push('-i', root, '-r');
}
if (!passed.includes('-e') && !passed.includes('--electron-version')) {
  passed.push('-e', require('electron/package.json').version);
}
const outputAt = Math.max(passed.indexOf('-o'), passed.indexOf('--output'));
const output = outputAt >= 0 ? passed[outputAt + 1] : undefined;
if (failOnFindings && !output) {
  console.error('--fail-on-findings needs the report file: -o FILE.csv');
  process.exit(2);
}
if (output) fs.rmSync(output, { force: true });
// It writes its CSV report with two fs.writeFile calls in flight at once (the header with flag
// 'w', the rows with 'a'): when the rows land first, the header overwrites their start, and the
// report's first finding is cut (seen about one run in four). Writes to the report are made one
// after the other, in the order they are asked for.
if (output) {
  const report = path.resolve(output);
  const writeFile = fs.writeFile;
  fs.writeFile = function writeReportInOrder(file, ...rest) {
    if (typeof file !== 'string' || path.resolve(file) !== report) return writeFile.call(this, file, ...rest);
    const [data, options, callback] = rest;
    const done = typeof options === 'function' ? options : callback;
    try {
      fs.writeFileSync(file, data, typeof options === 'function' ? undefined : options);
    } catch (error) {
      done?.(error);
      return;
    }
    done?.(null);
  };
}
process.argv = [process.argv[0], cliPath, ...passed];

process.on('exit', (code) => {
  if (!failOnFindings || code !== 0) return;
  const report = fs.existsSync(output) ? fs.readFileSync(output, 'utf8') : null;
  if (report === null) {
    console.error(`electronegativity wrote no report to ${output}`);
    process.exitCode = 1;
    return;
  }
  // The CSV's first line is its header; anything after it is a finding.
  const findings = report.slice(report.indexOf('\n') + 1).trim();
  if (report.includes('\n') && findings !== '') {
    console.error(`electronegativity findings (fix them, or explain them in place with eng-disable):\n${findings}`);
    process.exitCode = 1;
  }
});
require(cliPath);
