import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  CONTENT_SECURITY_POLICY,
  checkToken,
  isAllowedFetchSite,
  isAllowedHost,
  isAllowedOrigin,
  presentedToken,
  staticFile,
} from '../electron/core/dashboard-guard.ts';

const PORT = 43117;

describe('isAllowedHost (DNS rebinding)', () => {
  it('accepts our own loopback names with our port', () => {
    expect(isAllowedHost(`127.0.0.1:${PORT}`, PORT)).toBe(true);
    expect(isAllowedHost(`localhost:${PORT}`, PORT)).toBe(true);
    expect(isAllowedHost(`LOCALHOST:${PORT}`, PORT)).toBe(true);
  });

  it('rejects a rebound host: a web site whose name now resolves to 127.0.0.1', () => {
    expect(isAllowedHost(`evil.example:${PORT}`, PORT)).toBe(false);
    expect(isAllowedHost('evil.example', PORT)).toBe(false);
  });

  it('rejects a loopback name with another port (another local service rebinding to ours)', () => {
    expect(isAllowedHost(`127.0.0.1:${PORT + 1}`, PORT)).toBe(false);
    expect(isAllowedHost('127.0.0.1', PORT)).toBe(false);
  });

  it('rejects look-alike names that merely start or end like ours', () => {
    expect(isAllowedHost(`127.0.0.1.evil.example:${PORT}`, PORT)).toBe(false);
    expect(isAllowedHost(`localhost.evil.example:${PORT}`, PORT)).toBe(false);
    expect(isAllowedHost(`evil.localhost:${PORT}`, PORT)).toBe(false);
  });

  it('rejects a request without a Host header', () => {
    expect(isAllowedHost(undefined, PORT)).toBe(false);
    expect(isAllowedHost('', PORT)).toBe(false);
  });
});

describe('isAllowedOrigin (cross-site requests)', () => {
  it('accepts our own page, and a same-origin request that carries no Origin', () => {
    expect(isAllowedOrigin(`http://127.0.0.1:${PORT}`, PORT)).toBe(true);
    expect(isAllowedOrigin(`http://localhost:${PORT}`, PORT)).toBe(true);
    expect(isAllowedOrigin(undefined, PORT)).toBe(true);
  });

  it('rejects a request sent by a page on another web site', () => {
    expect(isAllowedOrigin('https://evil.example', PORT)).toBe(false);
  });

  it('rejects a page on another local port (another local web app)', () => {
    expect(isAllowedOrigin(`http://127.0.0.1:${PORT + 1}`, PORT)).toBe(false);
    expect(isAllowedOrigin('http://127.0.0.1', PORT)).toBe(false);
  });

  it('rejects the "null" origin of a sandboxed frame or a local file', () => {
    expect(isAllowedOrigin('null', PORT)).toBe(false);
  });

  it('rejects https:// and look-alike origins', () => {
    expect(isAllowedOrigin(`https://127.0.0.1:${PORT}`, PORT)).toBe(false);
    expect(isAllowedOrigin(`http://127.0.0.1:${PORT}.evil.example`, PORT)).toBe(false);
  });
});

describe('isAllowedFetchSite (cross-site requests without an Origin)', () => {
  it('accepts our own page, a typed-in address and programs without the header', () => {
    expect(isAllowedFetchSite('same-origin')).toBe(true);
    expect(isAllowedFetchSite('none')).toBe(true);
    expect(isAllowedFetchSite(undefined)).toBe(true);
  });

  it('rejects a request the browser marks as sent from another site', () => {
    expect(isAllowedFetchSite('cross-site')).toBe(false);
    expect(isAllowedFetchSite('same-site')).toBe(false);
  });
});

describe('presentedToken and checkToken (callers without the access token)', () => {
  const token = 'A'.repeat(43);
  const given = (value: string) => ({ kind: 'token', value }) as const;

  it('takes the bearer token from the Authorization header', () => {
    expect(presentedToken(`Bearer ${token}`, null)).toEqual(given(token));
    expect(checkToken(presentedToken(`Bearer ${token}`, null), token)).toBe('ok');
  });

  it('takes the query token only when no Authorization header is sent (EventSource)', () => {
    expect(presentedToken(undefined, token)).toEqual(given(token));
    expect(presentedToken('Bearer other', token)).toEqual(given('other'));
  });

  it('calls a request with no token "missing"', () => {
    expect(checkToken(presentedToken(undefined, null), token)).toBe('missing');
    expect(checkToken(presentedToken('', ''), token)).toBe('missing');
  });

  it('calls a guessed token "wrong", whatever its length', () => {
    expect(checkToken(given('B'.repeat(43)), token)).toBe('wrong');
    expect(checkToken(given(token.slice(1)), token)).toBe('wrong');
    expect(checkToken(given(`${token}A`), token)).toBe('wrong');
  });

  it('calls an Authorization header that is not a bearer token "wrong", even if it holds the token', () => {
    expect(checkToken(presentedToken(`Basic ${token}`, null), token)).toBe('wrong');
    expect(checkToken(presentedToken(token, null), token)).toBe('wrong');
    expect(checkToken(presentedToken('Bearer', token), token)).toBe('wrong');
  });
});

describe('staticFile (directory traversal)', () => {
  const root = resolve('/srv/dashboard');

  it('maps / to index.html and an asset to its file with its type', () => {
    expect(staticFile(root, '/')).toEqual({ file: join(root, 'index.html'), contentType: 'text/html; charset=utf-8' });
    expect(staticFile(root, '/assets/index-abc.js')).toEqual({
      file: join(root, 'assets', 'index-abc.js'),
      contentType: 'text/javascript; charset=utf-8',
    });
  });

  it('refuses to climb out with ../', () => {
    expect(staticFile(root, '/../../etc/passwd')).toBeNull();
    expect(staticFile(root, '/assets/../../secret.js')).toBeNull();
  });

  it('refuses ../ hidden behind percent-encoding', () => {
    expect(staticFile(root, '/%2e%2e/%2e%2e/etc/passwd')).toBeNull();
    expect(staticFile(root, '/assets%2f..%2f..%2fsecret.js')).toBeNull();
  });

  it('refuses backslashes, NUL bytes and broken encodings', () => {
    expect(staticFile(root, '/..\\..\\secret.js')).toBeNull();
    expect(staticFile(root, '/%5c..%5csecret.js')).toBeNull();
    expect(staticFile(root, '/index.html%00.js')).toBeNull();
    expect(staticFile(root, '/%E0%A4%A')).toBeNull();
  });

  it('refuses hidden files, empty segments and kinds of files a build does not produce', () => {
    expect(staticFile(root, '/.env')).toBeNull();
    expect(staticFile(root, '//etc/passwd')).toBeNull();
    expect(staticFile(root, '/history.sqlite')).toBeNull();
    expect(staticFile(root, '/assets/')).toBeNull();
  });
});

describe('CONTENT_SECURITY_POLICY', () => {
  it('allows scripts and styles from our own files only, and no HTML sinks', () => {
    const directives = new Map(
      CONTENT_SECURITY_POLICY.split(';').map((d) => {
        const [name, ...values] = d.trim().split(/\s+/);
        return [name, values.join(' ')] as const;
      }),
    );
    expect(directives.get('default-src')).toBe("'none'");
    expect(directives.get('script-src')).toBe("'self'");
    expect(directives.get('style-src')).toBe("'self'");
    expect(directives.get('frame-ancestors')).toBe("'none'");
    expect(directives.get('require-trusted-types-for')).toBe("'script'");
    expect(CONTENT_SECURITY_POLICY).not.toMatch(/unsafe-(inline|eval)/);
  });
});
