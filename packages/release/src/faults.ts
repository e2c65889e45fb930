// Fault knobs of TEST releases (the deploy drills need a release that never turns ready, and one that
// answers 500 on a route). The fault is bundled in at build time, as a prologue of server.mjs that wraps
// node:http's request dispatch: the API sources are not touched, and a shipped release (no knob) has
// no such code at all. The version of a faulty release says so (`<commit>-fault-<name>`), and its
// release.json records `fault`.

export const FAULTS = {
  /** /health/ready answers 503 forever (liveness stays fine): the rollout's health barrier must stop the deploy. */
  'never-ready': { method: null, path: '/health/ready', status: 503 },
  /**
   * GET /api/articles (the article list) answers 500; everything else works (POST /api/articles too), so
   * readiness and the smoke request pass: only the canary analysis sees it.
   */
  'error-route': { method: 'GET', path: '/api/articles', status: 500 },
} as const;

export type ReleaseFault = keyof typeof FAULTS;

/** JavaScript prepended to the bundle: requests to the fault's path get its status before the app sees them. */
export function faultBanner(fault: ReleaseFault): string {
  const f = FAULTS[fault];
  if (!f) throw new Error(`unknown release fault ${JSON.stringify(fault)}: one of ${Object.keys(FAULTS).join(', ')}`);
  const body = JSON.stringify({ errors: { release: [`fault "${fault}" of a test release`] } });
  return [
    `// TEST RELEASE: fault "${fault}" (packages/release/src/faults.ts)`,
    "import __faultHttp from 'node:http';",
    '{',
    '  const emit = __faultHttp.Server.prototype.emit;',
    '  __faultHttp.Server.prototype.emit = function (event, req, res) {',
    `    if (event === 'request' && ${f.method ? `req.method === ${JSON.stringify(f.method)} && ` : ''}req.url.split('?')[0] === ${JSON.stringify(f.path)}) {`,
    `      res.writeHead(${f.status}, { 'content-type': 'application/json' });`,
    `      res.end(${JSON.stringify(body)});`,
    '      return true;',
    '    }',
    '    return emit.apply(this, arguments);',
    '  };',
    '}',
  ].join('\n');
}
