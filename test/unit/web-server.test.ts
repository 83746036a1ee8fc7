import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WebApiRequest } from '../../lib/web/contract';
import { type LocalWebServer, startWebServer } from '../../lib/local/web-server';
import { bundleWebApp } from '../../lib/web/bundle';

describe('Local web server', () => {
  const seen: WebApiRequest[] = [];
  let server: LocalWebServer;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'web-'));
    await bundleWebApp(dir);
    writeFileSync(join(tmpdir(), 'outside.json'), '{"secret": true}');
    server = await startWebServer({
      staticDir: dir,
      api: async (request) => {
        seen.push(request);
        return { status: 200, headers: { 'content-type': 'application/json' }, body: '{"ok":true}' };
      },
    });
  });
  afterAll(() => server?.stop());

  it('serves the bundled page on loopback, with security headers', async () => {
    const page = await fetch(server.url);
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<script type="module" src="app.js"></script>');
    expect(page.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect((await fetch(`${server.url}app.js`)).headers.get('content-type')).toMatch(/^text\/javascript/);
  });

  it('tells the page where its API is', async () => {
    expect(await (await fetch(`${server.url}config.json`)).json()).toEqual({ apiUrl: '/api' });
  });

  it('hands API calls over below /api, as the operator, with their query and body', async () => {
    const response = await fetch(`${server.url}api/transients/2010ag/retrigger?x=1`, { method: 'POST', body: '{}' });
    expect(response.status).toBe(200);
    expect(seen.at(-1)).toEqual({ method: 'POST', path: '/transients/2010ag/retrigger', query: { x: '1' }, body: '{}', caller: { operator: true, name: 'local' } });
  });

  it.each([
    ['a file outside its folder', '..%2F..%2Foutside.json'],
    ['a path climbing out', '../outside.json'],
    ['a kind of file it does not serve', 'index.ts'],
  ])('refuses %s', async (_, path) => {
    expect((await fetch(`${server.url}${path}`)).status).toBe(404);
  });

  it('refuses a body over 64 KB', async () => {
    const response = await fetch(`${server.url}api/dead-letters/x/redrive`, { method: 'POST', body: 'x'.repeat(70_000) });
    expect(response.status).toBe(413);
  });
});
