import type { GatewayMetrics } from '../metrics.js';
import { sendJson, sendText } from './responses.js';
import type { RouteModule } from './router.js';

/** What the health routes read. */
export interface HealthDeps {
  /** True while the gateway serves: started, not draining, and the shared store reachable. */
  ready(): boolean;
  /** The Prometheus text of the gateway's metrics. */
  metrics: Pick<GatewayMetrics, 'text' | 'contentType'>;
}

/**
 * docs/protocol.md's probes, for GET and HEAD: `/healthz` (200 `{"status":"ok"}` while the process runs), `/readyz`
 * (200 `{"status":"ready"}` when serving, 503 `{"status":"unavailable"}` while starting, draining or when the store
 * is unreachable) and `/metrics` (Prometheus text). Mounted at the root.
 */
export function healthRoutes(deps: HealthDeps): RouteModule {
  return (mount) => {
    mount.route(['GET', 'HEAD'], '/healthz', (_req, res) => sendJson(res, 200, { status: 'ok' }));
    mount.route(['GET', 'HEAD'], '/readyz', (_req, res) => {
      const ready = deps.ready();
      sendJson(res, ready ? 200 : 503, { status: ready ? 'ready' : 'unavailable' });
    });
    mount.route(['GET', 'HEAD'], '/metrics', async (_req, res) => {
      sendText(res, 200, await deps.metrics.text(), deps.metrics.contentType);
    });
  };
}
