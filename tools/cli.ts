#!/usr/bin/env node
/**
 * The `stratadb` executable (package.json "bin" -> dist/tools/cli.js; tsc keeps the shebang).
 * Everything else lives in tools/program.ts: the commands, their help, errors and exit codes.
 */
import { main } from './program.js';

await main(process.argv);
