/**
 * The logging the kernel needs: pino's method shapes (`logger.warn({ err }, 'msg')`), so a pino logger fits as is.
 * The kernel logs malformed input and failed background work; it never throws them into the event loop.
 */
export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** A logger that drops everything (the default when the embedding program gives none). */
export const silentLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};
