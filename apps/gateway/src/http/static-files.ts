import { open, realpath, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { basename, join, sep } from 'node:path';
import { pipeline } from 'node:stream';
import { contentTypeOf } from './content-types.js';
import { sendNotFound } from './responses.js';
import type { RouteModule } from './router.js';

/** How a {@link staticFiles} module serves its directory. */
export interface StaticFilesOptions {
  /** The directory served (it may not exist yet: then everything is 404). Nothing outside it is ever read. */
  root: string;
  /** The file served for a directory, the mount point itself included. Default `index.html`. */
  index?: string;
  /** True for content-hashed file names, cached for good. Default {@link isHashedAssetName}. */
  hashed?: (fileName: string) => boolean;
}

/** `Cache-Control` of content-hashed files: the name changes whenever the content does. */
export const IMMUTABLE_CACHE = 'public, max-age=31536000, immutable';
/** `Cache-Control` of every other file (`index.html` above all): ask again each time. */
export const REVALIDATE_CACHE = 'no-cache';

/**
 * True for a bundler's content-hashed name: an 8-character hash of letters, digits, `_` or `-`, with at least one
 * letter and one digit, after `-` or `.` and before the extension (`index-B3x9kQ2a.js`, `app.3f2a1b9c.css`). A
 * name it misses is only revalidated more often; one it wrongly took would be cached stale, hence the digit.
 */
export function isHashedAssetName(fileName: string): boolean {
  const hash = /[.-]([A-Za-z0-9_-]{8})\.[A-Za-z0-9]+$/.exec(fileName)?.[1];
  return hash !== undefined && /\d/.test(hash) && /[A-Za-z]/.test(hash);
}

/**
 * Serves the files of one directory (and its subdirectories) for GET and HEAD at the mount point and below: the
 * content type by extension, `Cache-Control` {@link IMMUTABLE_CACHE} for hashed names and {@link REVALIDATE_CACHE}
 * otherwise, a directory's index file for the directory. Anything else is the 404 JSON: a missing file, a path with
 * a `.`, `..` or hidden (`.name`) segment, an empty segment or a backslash (also percent-encoded: the router decodes
 * before this module looks), and a file whose real path (symbolic links resolved) is outside the directory.
 */
export function staticFiles(options: StaticFilesOptions): RouteModule {
  const index = options.index ?? 'index.html';
  const hashed = options.hashed ?? isHashedAssetName;
  return (mount) => {
    const serve = async (req: IncomingMessage, res: ServerResponse, relative: string): Promise<void> => {
      const file = await locate(options.root, relative, index);
      if (file === null) return sendNotFound(res);
      await sendFile(req, res, file, hashed(basename(file)) ? IMMUTABLE_CACHE : REVALIDATE_CACHE);
    };
    mount.route(['GET', 'HEAD'], '', (req, res) => serve(req, res, ''));
    mount.route(['GET', 'HEAD'], '/*', (req, res, params) => serve(req, res, params['*'] ?? ''));
  };
}

/** Sends `file`, opened once (what is measured is what is sent); the 404 when it cannot be opened as a file. */
async function sendFile(req: IncomingMessage, res: ServerResponse, file: string, cacheControl: string): Promise<void> {
  const handle = await open(file, 'r').catch(() => null);
  if (handle === null) return sendNotFound(res);
  const size = await handle.stat().then((info) => (info.isFile() ? info.size : null), () => null);
  if (size === null || req.method === 'HEAD') await handle.close();
  if (size === null) return sendNotFound(res);
  res.writeHead(200, {
    'content-type': contentTypeOf(file),
    'content-length': size,
    'cache-control': cacheControl,
    'x-content-type-options': 'nosniff',
  });
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  // The stream closes the handle. A client gone mid-way (or a file failing mid-way) ends both streams; the answer
  // has begun, so there is no one left to tell.
  pipeline(handle.createReadStream(), res, () => undefined);
}

/**
 * The real path of the file `relative` (a `/`-separated, decoded path under the mount point) names in `root`, or of
 * `index` in the directory it names; null when there is none, the path has an unsafe segment, or the file is not
 * under `root`.
 */
async function locate(root: string, relative: string, index: string): Promise<string | null> {
  const segments = relative.split('/');
  for (const [position, segment] of segments.entries()) {
    // Only the last segment may be empty: `dir/` names the directory.
    if (segment === '' && position === segments.length - 1) continue;
    if (segment === '' || segment.startsWith('.') || segment.includes('\\') || segment.includes('\0')) return null;
  }
  const base = await realPathOrNull(root);
  if (base === null) return null;
  const named = await realPathOrNull(join(base, relative));
  if (named === null || !isWithin(base, named)) return null;
  const directory = await stat(named).then((info) => info.isDirectory(), () => false);
  if (!directory) return named;
  const file = await realPathOrNull(join(named, index));
  return file !== null && isWithin(base, file) ? file : null;
}

function isWithin(base: string, path: string): boolean {
  return path === base || path.startsWith(base + sep);
}

async function realPathOrNull(path: string): Promise<string | null> {
  try {
    return await realpath(path);
  } catch {
    return null;
  }
}
