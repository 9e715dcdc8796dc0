// Builds the web dashboard (apps/dashboard -> dist/dashboard) when its build is missing or older
// than any of its sources, so `npm test` drives the page it would serve. Called by global-setup.js
// (once per jest run, before any worker starts, so parallel spec files never build at once).
'use strict';
const { execFileSync } = require('node:child_process');
const { existsSync, readdirSync, statSync } = require('node:fs');
const { join } = require('node:path');

const root = join(__dirname, '..', '..');
const sources = join(root, 'apps', 'dashboard');
const DASHBOARD_DIR = join(root, 'dist', 'dashboard');

function newestMtime(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}

function ensureDashboardBuilt() {
  const built = join(DASHBOARD_DIR, 'index.html');
  const stale =
    !existsSync(built) || statSync(built).mtimeMs < Math.max(newestMtime(sources), statSync(join(root, 'package-lock.json')).mtimeMs);
  if (!stale) return false;
  execFileSync(
    process.execPath,
    [join(root, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--config', join(sources, 'vite.config.mts'), '--logLevel', 'warn'],
    {
      cwd: root,
      stdio: ['ignore', 'inherit', 'inherit'],
      env: { ...process.env, VITE_CONFIG_NATIVE_IGNORE_WARNING: 'true' },
    },
  );
  return true;
}

module.exports = { ensureDashboardBuilt, DASHBOARD_DIR };
