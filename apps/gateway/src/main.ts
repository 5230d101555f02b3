/**
 * The gateway's entry point (`npx nx serve gateway`, or `node dist/apps/gateway/main.js` once built): reads the
 * environment, starts a node, and on SIGTERM or SIGINT drains it and exits 0. A wrong environment value prints the
 * variable and exits 1. A Redis that cannot be reached at start is waited for (listening, `/readyz` 503); a signal
 * meanwhile stops the wait and exits 0.
 *
 * SIGTERM (an orchestrator's stop) drains fully: in cluster mode it waits, up to the resume window, for the closed
 * clients' sessions to resume on other nodes. SIGINT (Ctrl-C, and the cluster launcher stopping its nodes) closes
 * the clients the same way but does not wait: the node exits once they are closed, and their sessions stay
 * resumable on the other nodes through the store (as after a node's death). A second signal exits 1 at once.
 */
import { ConfigError, loadConfig } from './config.js';
import type { GatewayConfig } from './config.js';
import { Gateway } from './gateway.js';

let config: GatewayConfig;
try {
  config = loadConfig(process.env);
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(`rooms gateway: invalid configuration: ${error.message}`);
  process.exit(1);
}

const gateway = new Gateway(config);
const logger = gateway.logger;

process.on('unhandledRejection', (error) => logger.error({ err: error }, 'unhandled rejection'));

let stopping = false;
const stop = (signal: NodeJS.Signals): void => {
  if (stopping) {
    logger.warn({ signal }, 'second signal: exiting now');
    process.exit(1);
  }
  stopping = true;
  const awaitResumes = signal !== 'SIGINT';
  logger.info({ signal, awaitResumes }, 'draining');
  gateway
    .drain({ awaitResumes })
    .then(() => gateway.close())
    .then(
      () => {
        logger.info('drained, exiting');
        process.exit(0);
      },
      (error: unknown) => {
        logger.error({ err: error }, 'drain failed');
        process.exit(1);
      },
    );
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);

try {
  await gateway.start();
} catch (error) {
  // Stopped by a signal while starting (waiting for Redis, say): the stop exits 0 once closed.
  if (!stopping) {
    logger.fatal({ err: error }, 'the gateway failed to start');
    process.exit(1);
  }
}
