// The nginx server block that serves the built SPA, shared by the AWS front release (front/current.tar.gz)
// and the local region's front instances (@conduit/local generates their nginx.conf around it).
// Pure: text in, text out.

/** What one nginx server block serving the built SPA needs: where it listens, what it serves, the cache policy. */
export interface NginxServerBlock {
  /** nginx `listen` argument: `127.0.0.1:21101` (local region) or `8080` (an AWS front instance). */
  listen: string;
  /** Absolute folder of the built SPA (index.html + assets/). */
  root: string;
  /** Cache-Control max-age of the content-hashed files under /assets/. */
  assetMaxAgeSeconds: number;
  /** Extra response headers on every answer (name, value), e.g. the instance's identity. */
  headers?: [string, string][];
}

/**
 * One `server { ... }` block serving the SPA: /assets/* immutable (a missing one is a 404), every other path
 * falls back to index.html with no-cache. Shared by the local front instances and the AWS front release
 * (packages/release), so both targets serve the same thing. `indent` prefixes every non-empty line.
 */
/**
 * Sent with every answer of the site (nginx drops server-level add_header in a location that has its own,
 * so each location lists them). A header, unlike index.html's <meta> CSP, can say frame-ancestors: no site
 * may frame this one (clickjacking). Images: https and data: only, no plain http.
 */
export const SITE_SECURITY_HEADERS: [string, string][] = [
  ['Content-Security-Policy', `"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' https: data:; connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"`],
  ['X-Frame-Options', 'DENY'],
  ['X-Content-Type-Options', 'nosniff'],
  ['Referrer-Policy', 'strict-origin-when-cross-origin'],
];

export function nginxServerBlock(b: NginxServerBlock, indent = ''): string {
  const headers = [...SITE_SECURITY_HEADERS, ...(b.headers ?? [])].map(([k, v]) => `        add_header ${k} ${v} always;`);
  const text = `server {
    listen ${b.listen};
    root ${b.root};

    # Content-hashed files: cached for a year everywhere; a missing one is a 404, never index.html.
    # No "always" on Cache-Control: a 404 for an asset of a newer build must not be cached for a year.
    location /assets/ {
${headers.join('\n')}
        add_header Cache-Control "public, max-age=${b.assetMaxAgeSeconds}, immutable";
        try_files $uri =404;
    }

    # History routing: any path that is not a file is the SPA entry; revalidated on every request.
    location / {
${headers.join('\n')}
        add_header Cache-Control "no-cache" always;
        try_files $uri /index.html;
    }
}
`;
  return text.split('\n').map((l) => (l ? indent + l : l)).join('\n');
}
