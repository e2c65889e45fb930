// The stand-in front tier: serves dist with the same rules the real front tier follows
// (SPA fallback to index.html, Cache-Control from build-info.mjs) and forwards /api to the API.
import { createReadStream, existsSync, statSync } from 'node:fs';
import { Agent, createServer, request, type Server } from 'node:http';
import { extname, join, normalize, sep } from 'node:path';
import { cacheControlFor, hashedAssetsPrefix } from '../../build-info.mjs';

const types: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml', '.json': 'application/json', '.png': 'image/png', '.ico': 'image/x-icon',
};

export function createFrontServer(opts: { distDir: string; apiOrigin: string }): Server {
  const api = new URL(opts.apiOrigin);
  // One connection per request: a reused idle socket that the API closes at the same moment would
  // turn into a spurious 502 (keep-alive race), which is not what these tests are about.
  const agent = new Agent({ keepAlive: false });
  return createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://front');
    if (url.pathname === '/api' || url.pathname.startsWith('/api/')) {
      const upstream = request({ agent, host: api.hostname, port: api.port, method: req.method, path: req.url, headers: { ...req.headers, host: api.host } }, (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      });
      upstream.on('error', () => {
        if (!res.headersSent) res.writeHead(502, { 'Content-Type': 'text/plain', 'Cache-Control': 'no-store' });
        res.end('bad gateway');
      });
      req.pipe(upstream);
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') { res.writeHead(405, { Allow: 'GET, HEAD' }); res.end(); return; }
    const rel = normalize(decodeURIComponent(url.pathname)).replace(/^([/\\])+/, '');
    let file = join(opts.distDir, rel);
    let urlPath = url.pathname;
    const inside = file === opts.distDir || file.startsWith(opts.distDir + sep);
    if (!inside || !existsSync(file) || !statSync(file).isFile()) {
      if (url.pathname.startsWith(hashedAssetsPrefix)) { res.writeHead(404, { 'Content-Type': 'text/plain', 'Cache-Control': 'no-cache' }); res.end('not found'); return; }
      file = join(opts.distDir, 'index.html'); // history routing: every other path is the app
      urlPath = '/index.html';
    }
    res.writeHead(200, { 'Content-Type': types[extname(file)] ?? 'application/octet-stream', 'Cache-Control': cacheControlFor(urlPath), 'Content-Length': statSync(file).size });
    if (req.method === 'HEAD') { res.end(); return; }
    createReadStream(file).pipe(res);
  });
}
