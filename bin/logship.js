#!/usr/bin/env node
// The built CLI when installed; the TypeScript sources (run by Node 24's
// type stripping) in a checkout that has not been built.
import { existsSync } from 'node:fs';

const built = new URL('../dist/cli/main.js', import.meta.url);
await import(existsSync(built) ? built : new URL('../src/cli/main.ts', import.meta.url));
