import type { IncomingMessage } from 'node:http';

/**
 * The client went away (reset or closed its connection) before its request body was complete. Nothing failed on
 * the server and nobody is left to answer: handlers let it through, and the router logs it at debug level and
 * destroys the response.
 */
export class RequestAbortedError extends Error {
  override readonly name = 'RequestAbortedError';

  constructor(cause?: unknown) {
    super('the client aborted the request', { cause });
  }
}

/**
 * Reads a request body of at most `limit` bytes. Resolves null, without reading the rest, when it is larger (by
 * its declared `content-length`, or once more than `limit` bytes arrived); rejects with {@link RequestAbortedError}
 * when the request stream fails or closes before its end (a client that sent part of a body and went away).
 * A caller answering null should also send `connection: close`, since the unread rest stays on the socket.
 */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) {
      resolve(null);
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    // The error listener stays: a later error of a request no longer read must not go unhandled (a settled promise
    // ignores the reject).
    const stop = (): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('close', onClose);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) {
        stop();
        resolve(null);
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      stop();
      resolve(Buffer.concat(chunks));
    };
    const onError = (error: Error): void => {
      stop();
      reject(new RequestAbortedError(error));
    };
    // A request closed before its end without an error (node does not always emit one) would leave this pending.
    const onClose = (): void => {
      stop();
      if (req.complete) resolve(Buffer.concat(chunks));
      else reject(new RequestAbortedError());
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('close', onClose);
  });
}
