/**
 * /liveness, /readiness and /metrics (fastify). Read-only; bound where the operator chooses
 * (127.0.0.1 by default). Health and metrics may share one listener when host and port agree.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';

export interface HealthState {
  live(): boolean;
  /** Undefined when ready, else why not. */
  notReady(): string | undefined;
}

export async function startHttp(
  endpoints: { host: string; port: number; health: boolean; metrics: boolean }[],
  state: HealthState,
  registry: Registry,
): Promise<FastifyInstance[]> {
  const servers: FastifyInstance[] = [];
  for (const ep of endpoints) {
    const app = Fastify({ logger: false });
    if (ep.health) {
      app.get('/liveness', async (_req, reply) =>
        reply.code(state.live() ? 200 : 503).send(state.live() ? 'ok\n' : 'not live\n'),
      );
      app.get('/readiness', async (_req, reply) => {
        const why = state.notReady();
        return reply.code(why ? 503 : 200).send(why ? `${why}\n` : 'ok\n');
      });
    }
    if (ep.metrics)
      app.get('/metrics', async (_req, reply) =>
        reply.type(registry.contentType).send(await registry.metrics()),
      );
    await app.listen({ host: ep.host, port: ep.port });
    servers.push(app);
  }
  return servers;
}
