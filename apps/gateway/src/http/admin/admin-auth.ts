import type { IncomingMessage, ServerResponse } from 'node:http';
import { RoomsError } from '@rooms-kit/core';
import { safeEqual } from '../../session-tokens.js';
import { sendJson } from '../responses.js';

const BEARER = 'Bearer ';

/** True when `req` carries `Authorization: Bearer <token>`, compared in constant time (for its length). */
export function hasAdminToken(req: IncomingMessage, token: string): boolean {
  const header = req.headers.authorization;
  if (header === undefined || !header.startsWith(BEARER)) return false;
  return safeEqual(header.slice(BEARER.length), token);
}

/** Sends the 401 of a request without the admin token (code `FORBIDDEN`: the catalog has no code of its own). */
export function sendUnauthorized(res: ServerResponse): void {
  sendJson(res, 401, { error: new RoomsError('FORBIDDEN', 'missing or wrong admin token').toWire() });
}
