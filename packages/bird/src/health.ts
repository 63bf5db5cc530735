/**
 * Read-only HTTP endpoints: /liveness, /readiness (fastify) and /metrics (prom-client).
 * The HTTP server is loaded only when something is to be served.
 */
import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';

export interface HealthSource {
  live(): boolean;
  ready(): { ready: boolean; reasons: string[] };
}

export async function startHealth(
  src: HealthSource,
  registry: Registry | undefined,
  health: { host: string; port: number } | undefined,
  metrics: { host: string; port: number } | undefined,
): Promise<FastifyInstance[]> {
  const apps: FastifyInstance[] = [];
  if (!health && !metrics) return apps;
  const { default: Fastify } = await import('fastify');
  const routes = (app: FastifyInstance, withHealth: boolean, withMetrics: boolean) => {
    if (withHealth) {
      app.get('/liveness', async (_req, reply) =>
        reply.code(src.live() ? 200 : 503).send({ live: src.live() }),
      );
      app.get('/readiness', async (_req, reply) => {
        const r = src.ready();
        return reply.code(r.ready ? 200 : 503).send(r);
      });
    }
    if (withMetrics)
      app.get('/metrics', async (_req, reply) =>
        registry
          ? reply.header('content-type', registry.contentType).send(await registry.metrics())
          : reply.code(404).send('metrics are not collected'),
      );
  };
  const same = health && metrics && health.host === metrics.host && health.port === metrics.port;
  if (health) {
    const app = Fastify({ logger: false });
    routes(app, true, !!same);
    await app.listen({ host: health.host, port: health.port });
    apps.push(app);
  }
  if (metrics && !same) {
    const app = Fastify({ logger: false });
    routes(app, false, true);
    await app.listen({ host: metrics.host, port: metrics.port });
    apps.push(app);
  }
  return apps;
}
