// The one esbuild setup every Node bundle shares (the release, the console, the backup agent): a bundle is
// built whole into its folder with the list of its inputs, found stale when an input changes, and run by
// the launcher's body. A tiny entry inside the repository (esbuild's working dir), so this runs in seconds.
import { mkdirSync, rmSync, utimesSync, writeFileSync, readFileSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildBundle, bundleIsStale, nodeBundleOptions, runBundle } from '../src/node-bundle.mjs';

const dir = resolve(import.meta.dirname, '../../../.test-state/release-node-bundle');
const entry = join(dir, 'entry.mjs');
const helper = join(dir, 'helper.mjs');
const outDir = join(dir, 'out');

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('node bundles', () => {
  it('gives every bundle require, __filename and __dirname, and the extra banner lines', () => {
    const o = nodeBundleOptions(['globalThis.knob = 1;']);
    expect(o).toMatchObject({ bundle: true, platform: 'node', format: 'esm', target: 'node20', outExtension: { '.js': '.mjs' } });
    const banner = o.banner?.js ?? '';
    expect(banner).toContain('const require = __bundleRequire(import.meta.url);');
    expect(banner.split('\n').at(-1)).toBe('globalThis.knob = 1;');
  });

  it('builds one module with its inputs, tells when it is stale, and runs it', async () => {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    writeFileSync(helper, 'export const answer = () => 42;\n');
    writeFileSync(entry, "import { answer } from './helper.mjs';\nexport const value = answer();\nexport const hasRequire = typeof require === 'function';\n");
    expect(bundleIsStale(outDir)).toBe(true); // never built
    const r = await buildBundle({ entryPoints: { entry }, outDir });
    expect(r).toEqual({ outDir, inputs: 2 });
    expect(existsSync(join(outDir, 'entry.mjs'))).toBe(true);
    expect(Object.keys(JSON.parse(readFileSync(join(outDir, 'inputs.json'), 'utf8'))).sort()).toEqual(
      ['.test-state/release-node-bundle/entry.mjs', '.test-state/release-node-bundle/helper.mjs'],
    );
    expect(bundleIsStale(outDir)).toBe(false);

    const mod = (await runBundle({ outDir, builder: '/nonexistent-builder-not-needed.mjs', entry: 'entry.mjs' })) as { value: number; hasRequire: boolean };
    expect(mod).toMatchObject({ value: 42, hasRequire: true });

    // An input touched since the build, or gone, makes it stale.
    utimesSync(helper, new Date(), new Date(Date.now() + 5_000));
    expect(bundleIsStale(outDir)).toBe(true);
    await buildBundle({ entryPoints: { entry }, outDir });
    rmSync(helper);
    expect(bundleIsStale(outDir)).toBe(true);
  });

  it('a launcher rebuilds a stale bundle in a child before running it', async () => {
    writeFileSync(helper, 'export const answer = () => 7;\n');
    const builder = join(dir, 'builder.mjs');
    const src = resolve(import.meta.dirname, '../src/node-bundle.mjs');
    writeFileSync(builder, `import { buildBundle } from ${JSON.stringify(src)};\nawait buildBundle({ entryPoints: { again: ${JSON.stringify(entry)} }, outDir: ${JSON.stringify(join(dir, 'out2'))} });\n`);
    const mod = (await runBundle({ outDir: join(dir, 'out2'), builder, entry: 'again.mjs' })) as { value: number };
    expect(mod.value).toBe(7);
  });
});
