import { ensureBuilt } from '../build-info.mjs';

export default async function setup(): Promise<void> {
  const started = Date.now();
  if (await ensureBuilt({ quiet: true })) process.stderr.write(`[web] built dist in ${Date.now() - started} ms\n`);
}
