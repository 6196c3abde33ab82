/**
 * The dashboard page as a string: self-contained (nothing fetched from another origin), its base
 * path escaped, and its inline script and style allowed by the page's own CSP. The browser test
 * (dashboard.browser.spec.ts) drives it against a real application.
 */
import { createHash } from 'node:crypto';
import { Script } from 'node:vm';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from '@jest/globals';
import {
  DASHBOARD_CONTENT_SECURITY_POLICY,
  renderDashboard,
} from '../../lib/ops/dashboard/dashboard-page.js';

const page = renderDashboard({ basePath: '/actuator' });

function only(pattern: RegExp, text: string): string {
  const matches = [...text.matchAll(pattern)];
  expect(matches).toHaveLength(1);
  return matches[0]![1]!;
}

function hash(text: string): string {
  return `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;
}

describe('renderDashboard', () => {
  it('references nothing outside the application', () => {
    expect(page).not.toMatch(/https?:/i);
    expect(page).not.toMatch(/["'(]\/\//); // no protocol-relative URL
    expect(page).not.toMatch(/\ssrc\s*=/i); // no <script src>, <img src>, <iframe src>
    expect(only(/<style>([\s\S]*?)<\/style>/g, page)).not.toMatch(/@import|url\(/i);
    const hrefs = [...page.matchAll(/\shref\s*=\s*"([^"]*)"/gi)].map((m) => m[1]);
    expect(hrefs).toEqual(['data:,']);
    expect(page.match(/<script\b[^>]*>/gi)).toEqual(['<script>']);
    expect(page.match(/<link\b[^>]*>/gi)).toEqual(['<link rel="icon" href="data:,">']);
  });

  it('its CSP allows exactly its own inline script and style, and requests to its own origin', () => {
    const script = only(/<script>([\s\S]*?)<\/script>/g, page);
    const style = only(/<style>([\s\S]*?)<\/style>/g, page);
    const csp = only(/http-equiv="Content-Security-Policy" content="([^"]*)"/g, page);
    expect(csp).toBe(DASHBOARD_CONTENT_SECURITY_POLICY);
    const directives = Object.fromEntries(
      csp.split('; ').map((d) => [d.split(' ')[0], d.split(' ').slice(1).join(' ')]),
    );
    expect(directives).toEqual({
      'default-src': "'none'",
      'script-src': hash(script),
      'style-src': hash(style),
      'connect-src': "'self'",
      'img-src': 'data:',
      'base-uri': "'none'",
      'form-action': "'none'",
    });
  });

  it('stays small: under 16 KiB, 6 KiB gzipped (the README gives its weight)', () => {
    expect(Buffer.byteLength(page, 'utf8')).toBeLessThan(16 * 1024);
    expect(gzipSync(page).length).toBeLessThan(6 * 1024);
  });

  it('its script is valid JavaScript', () => {
    const script = only(/<script>([\s\S]*?)<\/script>/g, page);
    expect(() => new Script(script, { filename: 'dashboard.js' })).not.toThrow();
  });

  it('writes the base path as an escaped attribute value, not as markup or code', () => {
    const hostile = `/x"><script>alert(1)</script><b a='`;
    const html = renderDashboard({ basePath: hostile });
    expect(html.match(/<script\b/gi)).toHaveLength(1);
    const value = only(/data-base-path="([^"]*)"/g, html);
    const unescaped = value
      .replace(/&lt;/g, '<')
      .replace(/&gt;/g, '>')
      .replace(/&quot;/g, '"')
      .replace(/&#39;/g, "'")
      .replace(/&amp;/g, '&');
    expect(unescaped).toBe(hostile);
    expect(html).not.toContain('alert(1)</script>');
  });

  it('drops trailing slashes from the base path', () => {
    expect(only(/data-base-path="([^"]*)"/g, renderDashboard({ basePath: '/ops//' }))).toBe('/ops');
    expect(only(/data-base-path="([^"]*)"/g, renderDashboard({ basePath: '/' }))).toBe('');
  });

  it('refuses a base path that is not a string, naming the option', () => {
    const bad = { basePath: 42 } as unknown as { basePath: string };
    expect(() => renderDashboard(bad)).toThrow(
      'renderDashboard: options.basePath must be a string (the ops routes\' prefix, e.g. "/actuator"), received number',
    );
  });
});
