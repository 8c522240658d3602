// Runs after `npm install` (the "prepare" script): links node_modules/.bin/guardia to this checkout's CLI so that
// `npx guardia …` works in a clone, as it does where Guardia is installed as a package.
import fs from 'node:fs';
import path from 'node:path';

const binDir = path.resolve('node_modules/.bin');
const link = path.join(binDir, 'guardia');
fs.mkdirSync(binDir, { recursive: true });
fs.rmSync(link, { force: true });
fs.symlinkSync(path.relative(binDir, path.resolve('bin/guardia.js')), link);
