import Fastify, { type FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';

export interface HealthSource {
  live(): boolean;
  ready(): boolean;
  /** `GET /status`: what the agent has programmed (e.g. the datastore revision). */
  status?(): unknown;
}

/**
 * Read-only HTTP endpoints: `/liveness`, `/readiness`, `/status` and (optionally on the same
 * server) `/metrics`. Only GET routes exist; nothing can be changed through them.
 */
export async function startHttp(opts: {
  host: string;
  port: number;
  health?: HealthSource;
  registry?: Registry;
}): Promise<{ server: FastifyInstance; port: number }> {
  const app = Fastify({ logger: false });
  if (opts.health) {
    const h = opts.health;
    app.get('/liveness', async (_req, reply) => reply.code(h.live() ? 200 : 503).send({ live: h.live() }));
    app.get('/readiness', async (_req, reply) =>
      reply.code(h.ready() ? 200 : 503).send({ ready: h.ready() }),
    );
    if (h.status) {
      const status = h.status.bind(h);
      app.get('/status', async (_req, reply) => reply.send(status()));
    }
  }
  if (opts.registry) {
    const r = opts.registry;
    app.get('/metrics', async (_req, reply) => reply.type(r.contentType).send(await r.metrics()));
  }
  await app.listen({ host: opts.host, port: opts.port });
  const addr = app.server.address();
  return { server: app, port: typeof addr === 'object' && addr ? addr.port : opts.port };
}
