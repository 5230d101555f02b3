import type { ServerResponse } from 'node:http';
import type { RoomsError } from '@rooms-kit/core';
import { HTTP_STATUS } from './error-status.js';

const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';

/** Sends `body` as JSON with `status` and a `content-length` (no body on HEAD: node drops it). */
export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': JSON_CONTENT_TYPE, 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** Sends `{"error":{"code","message","temporary"}}` with the code's status (or `status` when given). */
export function sendError(res: ServerResponse, error: RoomsError, status = HTTP_STATUS[error.code]): void {
  sendJson(res, status, { error: error.toWire() });
}

/** Sends plain text (default `text/plain; charset=utf-8`). */
export function sendText(res: ServerResponse, status: number, text: string, contentType = 'text/plain; charset=utf-8'): void {
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/**
 * Sends the 404 of a path nothing serves: `{"error":{"code":"BAD_REQUEST","message",...}}` (the catalog has no
 * code for a missing endpoint; clients tell it from a missing group by the status alone). `message` defaults to
 * `not found`.
 */
export function sendNotFound(res: ServerResponse, message = 'not found'): void {
  sendJson(res, 404, { error: { code: 'BAD_REQUEST', message, temporary: false } });
}

/** Sends 405 with `Allow: <allowed, comma-separated>` and a `BAD_REQUEST` error body. */
export function sendMethodNotAllowed(res: ServerResponse, allowed: readonly string[]): void {
  res.setHeader('allow', allowed.join(', '));
  sendJson(res, 405, { error: { code: 'BAD_REQUEST', message: 'method not allowed', temporary: false } });
}
