/**
 * bin/shekara.js for the sources (`node --import tsx test/helpers/cli-process.ts ARGS…`): what
 * `cliProcessArgs()` starts when dist/ is older than src/. Same exit handling as the binary.
 */
import { runCli } from '../../src/cli/main.js';

const code = await runCli(process.argv.slice(2));
if (code !== 0) process.exit(code);
