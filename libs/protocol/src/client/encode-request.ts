import type { Request } from '../types.js';

/** A client request as one frame (what a client sends): the request's own fields as JSON, nothing added. */
export function encodeRequest(request: Request): string {
  return JSON.stringify(request);
}
