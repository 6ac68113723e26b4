#!/usr/bin/env node
'use strict';
// The `cardsmith` command: runs the bundled CLI (built by `npm ci` through the prepare script).
// V8's code cache for the 1.5 MB bundle (Node ≥ 22.1; kept in the OS temp dir) saves most of
// its compile time on every start after the first; older Nodes just compile as before.
require('node:module').enableCompileCache?.();
require('../dist/cli.cjs').runCli(process.argv.slice(2));
