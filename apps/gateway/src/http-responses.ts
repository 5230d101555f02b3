import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ErrorCode, RoomsError } from '@rooms-kit/core';

/** The HTTP status of each catalog code in the admin API. */
export const HTTP_STATUS: Record<ErrorCode, number> = {
  BAD_REQUEST: 400,
  UNKNOWN_OP: 400,
  GROUP_NOT_FOUND: 404,
  GROUP_EXISTS: 409,
  NOT_MEMBER: 409,
  GROUP_FULL: 409,
  FORBIDDEN: 403,
  RATE_LIMITED: 429,
  PAYLOAD_TOO_LARGE: 413,
  NODE_DRAINING: 503,
  UNAVAILABLE: 503,
  SESSION_NOT_FOUND: 404,
  INTERNAL: 500,
};

/** Sends `body` as JSON with `status`. */
export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** Sends `{"error":{"code","message","temporary"}}` with the code's status (or `status` when given). */
export function sendError(res: ServerResponse, error: RoomsError, status = HTTP_STATUS[error.code]): void {
  sendJson(res, status, { error: error.toWire() });
}

/** Sends plain text. */
export function sendText(res: ServerResponse, status: number, text: string, contentType = 'text/plain; charset=utf-8'): void {
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** Reads a request body of at most `limit` bytes; resolves null when it is larger (the rest is not read). */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) {
      resolve(null);
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) {
        req.off('data', onData);
        req.off('end', onEnd);
        resolve(null);
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => resolve(Buffer.concat(chunks));
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', reject);
  });
}
