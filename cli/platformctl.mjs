#!/usr/bin/env node
// platformctl: the deployment platform's CLI. The commands are TypeScript (cli/*.ts), run through
// tsx like the rest of the platform (docs/adr/0004): this file only registers tsx for CommonJS
// (the package's module type) and hands over to main.ts.
//
// Paths resolve from this file's real location: Node resolves the symlinks npm puts in
// node_modules/.bin (or a global prefix's bin/) before it runs a script, so import.meta.url names
// this file, wherever it was called from.
import process from 'node:process';
import { URL, fileURLToPath } from 'node:url';

// tsx would otherwise read the tsconfig.json of the current directory (the caller's project, whose
// `paths` could redirect our imports); the CLI is compiled with its own.
process.env.TSX_TSCONFIG_PATH = fileURLToPath(new URL('./tsconfig.json', import.meta.url));
const { require: tsxRequire } = await import('tsx/cjs/api');
const { main } = tsxRequire('./main.ts', import.meta.url);
process.exitCode = await main(process.argv.slice(2));
