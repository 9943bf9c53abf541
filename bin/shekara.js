#!/usr/bin/env node
// Thin launcher: the compiled CLI lives in dist/ (built by `npm ci` through the prepare script).
// runCli never ends the process: a failure ends it here at once, with its exit code (also a
// gateway that did not stop in time); a command that is done lets it end by itself.
import('../dist/cli/main.js').then(
  async ({ runCli }) => {
    const code = await runCli(process.argv.slice(2));
    if (code !== 0) process.exit(code);
  },
  (err) => {
    if (err && err.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes('dist/cli')) {
      console.error('shekara: not built yet. Run `npm ci` (or `npm run build`) first.');
      process.exit(2);
    }
    throw err;
  },
);
