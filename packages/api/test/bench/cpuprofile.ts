// Summarizes a V8 .cpuprofile (node --cpu-prof) of the bundled server: where the CPU time of one request
// goes. The release bundle is one file (server.mjs); esbuild marks the start of every bundled module
// with a `// <path>` comment, so a frame's line number names its npm package or source file.
import { readFileSync } from 'node:fs';

interface CallFrame { functionName: string; url: string; lineNumber: number }
interface ProfileNode { id: number; callFrame: CallFrame; children?: number[] }
export interface CpuProfile { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[]; startTime: number; endTime: number }

/** Line number (0-based) → module name, from esbuild's `// node_modules/x/...` and `// packages/...` markers. */
export function bundleModules(bundleFile: string): (line: number) => string {
  const starts: [number, string][] = [];
  readFileSync(bundleFile, 'utf8').split('\n').forEach((l, i) => {
    const m = /^\/\/ (\S+\.(?:m?js|ts|json))$/.exec(l);
    if (!m) return;
    const p = m[1]!;
    const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(p);
    starts.push([i, nm ? nm[1]! : p.replace(/^packages\/api\/src\//, 'api:')]);
  });
  return (line) => {
    let lo = 0, hi = starts.length - 1, found = '(bundle prelude)';
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (starts[mid]![0] <= line) { found = starts[mid]![1]; lo = mid + 1; } else hi = mid - 1;
    }
    return found;
  };
}

export interface Summary {
  /** Sampled time in ms (idle excluded) inside the window. */
  busyMs: number;
  /** Self time in ms per module (npm package, api source file, node internals, GC, program). */
  selfByModule: Map<string, number>;
  /** Inclusive time in ms of the named functions of the API's own sources (hooks, handlers), recursion counted once. */
  inclusiveByFunction: Map<string, number>;
}

/** Self and inclusive times of the samples taken at or after `fromMs` (ms since the profile's start). */
export function summarize(profile: CpuProfile, moduleOf: (line: number) => string, fromMs = 0): Summary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const label = (n: ProfileNode): string => {
    const f = n.callFrame;
    if (f.url === '') return f.functionName; // (garbage collector), (program), (idle), (root)
    if (f.url.startsWith('node:')) return 'node internals';
    if (f.url.endsWith('server.mjs')) return moduleOf(f.lineNumber);
    return f.url;
  };
  const selfByModule = new Map<string, number>();
  const inclusiveByFunction = new Map<string, number>();
  let t = 0;
  let busy = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const dt = (profile.timeDeltas[i + 1] ?? 0) / 1000;
    t += (profile.timeDeltas[i] ?? 0) / 1000;
    if (t < fromMs) continue;
    const node = byId.get(profile.samples[i]!)!;
    const self = label(node);
    if (self === '(idle)') continue;
    busy += dt;
    selfByModule.set(self, (selfByModule.get(self) ?? 0) + dt);
    const seen = new Set<string>();
    for (let id: number | undefined = node.id; id !== undefined; id = parent.get(id)) {
      const n = byId.get(id)!;
      const mod = label(n);
      if (!mod.startsWith('api:')) continue;
      const key = `${mod.slice(4)} ${n.callFrame.functionName || '(anonymous)'}:${n.callFrame.lineNumber}`;
      if (seen.has(key)) continue;
      seen.add(key);
      inclusiveByFunction.set(key, (inclusiveByFunction.get(key) ?? 0) + dt);
    }
  }
  return { busyMs: busy, selfByModule, inclusiveByFunction };
}

/** A table of the top entries as microseconds per request. */
export function perRequestTable(title: string, m: Map<string, number>, requests: number, top = 14): string[] {
  const rows = [...m.entries()].sort((a, b) => b[1] - a[1]).slice(0, top);
  return [title, ...rows.map(([k, ms]) => `  ${((ms * 1000) / requests).toFixed(1).padStart(7)} us  ${k}`)];
}
