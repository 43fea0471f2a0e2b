#!/usr/bin/env node
// Entry point of `singlefile-monitor`. Plain JavaScript, so that an old Node.js gets a clear
// message instead of a syntax error; the CLI itself is TypeScript, run by Node 24's type stripping.
import module from 'node:module';

// 24, as `engines` and .nvmrc say: that is the Node the tests and CI run (older ones with type
// stripping may start, but are not what anything was checked on).
const major = Number(process.versions.node.split('.')[0]);
if (major < 24) {
  process.stderr.write(
    `singlefile-monitor: needs Node.js 24 or newer (this is ${process.version}); see README.md, "Troubleshooting".\n`,
  );
  process.exit(1);
}
// Compiled code is cached on disk: later starts skip most of the parsing (zod, type stripping).
module.enableCompileCache?.();
const { main } = await import('../electron/cli.ts');
process.exitCode = await main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr });
