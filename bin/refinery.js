#!/usr/bin/env node
// The published entry point. It runs the compiled CLI; `npm install` builds it via `prepare`.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const compiled = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
if (!existsSync(compiled)) {
  process.stderr.write(
    'refinery: the CLI is not built yet. Run `npm install` (or `npm run build`) in the checkout first.\n',
  );
  process.exit(1);
}
const { main } = await import(compiled);
process.exitCode = await main(process.argv.slice(2));
