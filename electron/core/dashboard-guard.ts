import { timingSafeEqual } from 'node:crypto';
import { extname, join, resolve, sep } from 'node:path';

/**
 * The dashboard's request checks, as pure functions so that each attack has its own test. The
 * dashboard listens on 127.0.0.1 only, but a browser on this computer will send requests there on
 * behalf of any web page the person has open: these checks are what keep those pages out.
 */

/** The names our own page is loaded under; anything else is someone else's name for us. */
function loopbackAuthorities(port: number): string[] {
  return [`127.0.0.1:${port}`, `localhost:${port}`];
}

/**
 * Threat: DNS rebinding. A page on evil.example makes its own name resolve to 127.0.0.1 after it
 * has loaded; the browser then counts our dashboard as evil.example's own origin and lets the page
 * read every answer. The Host header still says evil.example, so only our loopback names pass.
 */
export function isAllowedHost(host: string | undefined, port: number): boolean {
  if (typeof host !== 'string') return false;
  return loopbackAuthorities(port).includes(host.toLowerCase());
}

/**
 * Threat: cross-site requests. Any page the person visits can make the browser send requests to
 * 127.0.0.1 (a form post, `fetch` with `no-cors`, an EventSource). Such a request carries the
 * page's Origin (or "null" from a sandboxed frame or a file); our own page sends ours, or none on
 * a same-origin GET.
 */
export function isAllowedOrigin(origin: string | undefined, port: number): boolean {
  if (origin === undefined) return true;
  return loopbackAuthorities(port).some((authority) => origin.toLowerCase() === `http://${authority}`);
}

/**
 * Threat: cross-site requests that carry no Origin (a cross-site GET, such as `<img src>` or an
 * EventSource from another site in some browsers). The browser's Sec-Fetch-Site says where the
 * request came from; an API request must come from our own page (or from a program, which sends
 * no such header and must still present the token).
 */
export function isAllowedFetchSite(secFetchSite: string | undefined): boolean {
  return secFetchSite === undefined || secFetchSite === 'same-origin' || secFetchSite === 'none';
}

/** The token a request presents: `Authorization: Bearer …`, else (for EventSource) `?token=`. */
export type PresentedToken = { kind: 'none' } | { kind: 'malformed' } | { kind: 'token'; value: string };

export function presentedToken(authorization: string | undefined, queryToken: string | null): PresentedToken {
  if (typeof authorization === 'string' && authorization.trim() !== '') {
    const match = /^Bearer\s+(\S+)$/i.exec(authorization.trim());
    return match?.[1] ? { kind: 'token', value: match[1] } : { kind: 'malformed' };
  }
  return queryToken ? { kind: 'token', value: queryToken } : { kind: 'none' };
}

/**
 * Threat: another program or person on this computer, or a page that got past the checks above,
 * calling the API: every call must present the random token of this start, printed only to the
 * person who started `serve`. Compared in constant time, so that timing reveals nothing about it.
 * An Authorization header that is not a bearer token never matches.
 */
export function checkToken(presented: PresentedToken, expected: string): 'ok' | 'missing' | 'wrong' {
  if (presented.kind === 'none') return 'missing';
  if (presented.kind === 'malformed') return 'wrong';
  const a = Buffer.from(presented.value);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b) ? 'ok' : 'wrong';
}

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.json': 'application/json',
};

/**
 * Threat: directory traversal. A path such as `/../../.ssh/id_rsa`, or the same with `%2e%2e`,
 * `%2f` or a backslash, must never reach a file outside the built renderer. The path is decoded
 * once, refused if any segment is empty-dot, hidden or holds a separator, and the result must
 * still lie inside `root`. Only the kinds of files a build produces are served.
 */
export function staticFile(root: string, rawPath: string): { file: string; contentType: string } | null {
  let decoded: string;
  try {
    decoded = decodeURIComponent(rawPath);
  } catch {
    return null;
  }
  if (!decoded.startsWith('/') || decoded.includes('\0') || decoded.includes('\\')) return null;
  const relative = decoded === '/' ? 'index.html' : decoded.slice(1);
  const segments = relative.split('/');
  if (segments.some((segment) => segment === '' || segment.startsWith('.'))) return null;
  const base = resolve(root);
  const file = resolve(join(base, ...segments));
  if (!file.startsWith(base + sep)) return null;
  const contentType = CONTENT_TYPES[extname(file).toLowerCase()];
  return contentType ? { file, contentType } : null;
}

/**
 * What the page may do, so that text from a webhook that slipped into HTML could still not run:
 * scripts and styles only from our own files, no inline code, no frames, no plugins, and Trusted
 * Types so that no string can be assigned to an HTML sink such as innerHTML.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
  "require-trusted-types-for 'script'",
  "trusted-types 'none'",
].join('; ');

/** Sent with every answer. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy': CONTENT_SECURITY_POLICY,
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
};
