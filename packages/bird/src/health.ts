/** Read-only HTTP endpoints: /liveness, /readiness (fastify) and /metrics (prom-client). */
import Fastify, { type FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';

export interface HealthSource {
  live(): boolean;
  ready(): { ready: boolean; reasons: string[] };
}

export async function startHealth(
  src: HealthSource,
  registry: Registry,
  health: { host: string; port: number } | undefined,
  metrics: { host: string; port: number } | undefined,
): Promise<FastifyInstance[]> {
  const apps: FastifyInstance[] = [];
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
        reply.header('content-type', registry.contentType).send(await registry.metrics()),
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
