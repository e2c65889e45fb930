// Types of node-bundle.mjs (plain JavaScript: the launchers run it without tsx).
import type { BuildOptions } from 'esbuild';

export function nodeBundleOptions(bannerLines?: string[]): BuildOptions;
export function buildBundle(o: { entryPoints: Record<string, string>; outDir: string; external?: string[]; minify?: boolean }): Promise<{ outDir: string; inputs: number }>;
export function bundleIsStale(outDir: string): boolean;
export function runBundle(o: { outDir: string; builder: string; entry: string }): Promise<unknown>;
