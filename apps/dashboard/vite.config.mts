import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = fileURLToPath(new URL('.', import.meta.url));

// The web dashboard: plain TypeScript, built to dist/dashboard and served by the gateway at
// /dashboard/ under a strict CSP (no inline script or style, nothing from another origin).
export default defineConfig({
  root: here,
  base: '/dashboard/',
  publicDir: false,
  build: {
    outDir: fileURLToPath(new URL('../../dist/dashboard', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    // Everything is a file of its own: data: URIs would need a looser CSP for fonts and styles.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    sourcemap: true,
  },
});
