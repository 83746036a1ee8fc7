/**
 * The web page's bundle: web/src (Preact) built by esbuild into one script and one style sheet next to
 * web/index.html, offline. The local server serves it; the stack deploys the same folder to S3.
 */
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

/** Where the page's sources are, from the project's root. */
export const WEB_DIR = 'web';

export interface WebBundle {
  readonly outDir: string;
  /** The files written, relative to `outDir`. */
  readonly files: readonly string[];
  /** Bytes of the script and the style sheet, and gzipped (what a browser downloads from a server that compresses). */
  readonly bytes: number;
  readonly gzipBytes: number;
}

/** Bundles the page into `outDir` (index.html, app.js, app.css); `root` is the project's root. */
export const bundleWebApp = async (outDir: string, root = '.'): Promise<WebBundle> => {
  const web = resolve(root, WEB_DIR);
  mkdirSync(outDir, { recursive: true });
  await build({
    entryPoints: { app: join(web, 'src', 'main.tsx') },
    outdir: outDir,
    bundle: true,
    minify: true,
    format: 'esm',
    target: ['es2022'],
    platform: 'browser',
    jsx: 'automatic',
    jsxImportSource: 'preact',
    legalComments: 'none',
    logLevel: 'silent',
    tsconfig: join(web, 'tsconfig.json'),
  });
  copyFileSync(join(web, 'index.html'), join(outDir, 'index.html'));
  const assets = ['app.js', 'app.css'];
  const contents = assets.map((file) => readFileSync(join(outDir, file)));
  return {
    outDir,
    files: ['index.html', ...assets],
    bytes: contents.reduce((sum, content) => sum + content.length, 0),
    gzipBytes: contents.reduce((sum, content) => sum + gzipSync(content, { level: 9 }).length, 0),
  };
};
