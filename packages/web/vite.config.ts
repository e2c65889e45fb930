import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { defineConfig, type Plugin } from 'vite';
import { bundleReport, formatReport } from './build/budget.ts';

// After the build: measure the JavaScript the home page loads, print it, keep it in
// dist/bundle-report.json, and fail the build when it is over budget.
function bundleBudget(): Plugin {
  let outDir = '';
  return {
    name: 'conduit-bundle-budget',
    apply: 'build',
    configResolved(c) { outDir = resolve(c.root, c.build.outDir); },
    closeBundle() {
      const html = readFileSync(join(outDir, 'index.html'), 'utf8');
      const report = bundleReport(html, (f) => readFileSync(join(outDir, f)));
      writeFileSync(join(outDir, 'bundle-report.json'), JSON.stringify(report, null, 2) + '\n');
      console.log(`[web] ${formatReport(report)}`);
      if (!report.withinBudget) throw new Error(`[web] ${formatReport(report)}`);
    },
  };
}

export default defineConfig({
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    assetsDir: 'assets',
    target: 'es2022',
    // Every emitted asset carries a content hash, so the CDN may cache it forever.
    rollupOptions: { output: { entryFileNames: 'assets/[name]-[hash].js', chunkFileNames: 'assets/[name]-[hash].js', assetFileNames: 'assets/[name]-[hash][extname]' } },
  },
  plugins: [bundleBudget()],
});
