import type pg from 'pg';
import { parseCatalogueLocation } from '../catalogue/catalogue-location.ts';
import { messageOf } from '../errors.ts';
import type { Logger } from '../observability/logger.ts';

/** The channel apply notifies (payload: a server's name) and the one `pgbackman reconcile` notifies. */
export const APPLIED_CHANNEL = 'pgbackman';
export const RECONCILE_CHANNEL = 'pgbackman_reconcile';

export interface Listening {
  /** False on the embedded catalogue, which cannot notify: the agent polls it instead. */
  readonly listening: boolean;
  stop(): Promise<void>;
}

/**
 * LISTENs on a PostgreSQL catalogue with a connection of its own, reconnecting with backoff when it is
 * lost; calls back when an apply touched this server or someone asked for a reconcile.
 */
export async function startListening(
  location: string,
  server: string,
  on: { onApplied: () => void; onReconcileRequest: () => void; log: Logger },
): Promise<Listening> {
  const where = parseCatalogueLocation(location);
  if (where.kind === 'embedded') return { listening: false, stop: async () => undefined };
  const { connectClient } = await import('../catalogue/connect-postgres.ts');
  let client: pg.Client | undefined;
  let stopped = false;
  let retry: NodeJS.Timeout | undefined;
  const connect = async (delay: number): Promise<void> => {
    if (stopped) return;
    try {
      const c = (await connectClient(where, 'pgbackman agent (listen)')).client;
      client = c;
      c.on('notification', (n) => {
        if (n.channel === APPLIED_CHANNEL && (n.payload === server || n.payload === '')) on.onApplied();
        if (n.channel === RECONCILE_CHANNEL && (n.payload === server || n.payload === ''))
          on.onReconcileRequest();
      });
      c.on('error', () => undefined);
      c.on('end', () => {
        if (stopped) return;
        on.log.warn(
          { event: 'listen_lost' },
          'lost the catalogue connection that listens for applies; reconnecting',
        );
        retry = setTimeout(() => void connect(1000), 1000);
      });
      await c.query(`LISTEN ${APPLIED_CHANNEL}`);
      await c.query(`LISTEN ${RECONCILE_CHANNEL}`);
      // Anything applied while it was not listening is picked up at once.
      if (delay > 0) on.onApplied();
    } catch (err) {
      const next = Math.min(delay * 2 || 1000, 60_000);
      on.log.debug({ event: 'listen_failed', err: messageOf(err) }, `cannot listen yet: ${messageOf(err)}`);
      retry = setTimeout(() => void connect(next), next);
    }
  };
  await connect(0);
  return {
    listening: true,
    async stop() {
      stopped = true;
      clearTimeout(retry);
      if (client === undefined) return;
      // Bounded: a catalogue that stopped answering never says goodbye, and the shutdown must not wait for it.
      const { endClient } = await import('../catalogue/pg-client-catalogue.ts');
      await endClient(client).catch(() => undefined);
    },
  };
}
