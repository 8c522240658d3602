#!/usr/bin/env node
// Entry point for `npx guardia`: runs the compiled CLI (built by `npm install` via the "prepare" script).
import('../dist/cli/main.js').catch((err) => {
  if (err && err.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes('dist/cli/main.js')) {
    console.error('guardia: not built yet. Run `npm install` (or `npm run build`) first.');
    process.exit(2);
  }
  throw err;
});
