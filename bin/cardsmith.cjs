#!/usr/bin/env node
'use strict';
// The `cardsmith` command: runs the bundled CLI (built by `npm ci` through the prepare script).
require('../dist/cli.cjs').runCli(process.argv.slice(2));
