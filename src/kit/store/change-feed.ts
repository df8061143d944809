import type { Queryable, Store } from './store.ts';

// Cross-instance cache invalidation for several instances of one part over one database:
// PostgreSQL LISTEN/NOTIFY on a channel of the part's own schema. Chosen over NATS because every
// part already has its PostgreSQL (no second system to run, secure and watch), a NOTIFY sent in a
// transaction is delivered only when that transaction commits (no invalidation for a change that
// rolled back, none before the change is visible), and a part never sees another part's channels.
// A listener that lost its connection may have missed notifications: it is told to drop everything.

export interface ChangeFeed {
  /** Tells every instance (this one too) that `key` under `topic` changed; inside `tx`, on commit. */
  notify(topic: string, key: string, tx?: Queryable): Promise<void>;
  /** Calls onChange(key) for each change, and onChange(null) when changes may have been missed. */
  subscribe(topic: string, onChange: (key: string | null) => void): Promise<() => Promise<void>>;
}

function channelOf(store: Store, topic: string): string {
  if (!/^[a-z][a-z0-9_]{0,30}$/.test(topic)) throw new Error(`invalid change topic: ${topic}`);
  return `ldn_${store.schema}_${topic}`.slice(0, 63);
}

export function changeFeed(store: Store): ChangeFeed {
  return {
    async notify(topic, key, tx) {
      await (tx ?? store).query('SELECT pg_notify($1, $2)', [channelOf(store, topic), key]);
    },
    async subscribe(topic, onChange) {
      if (!store.listen) return async () => {}; // a store without LISTEN serves one instance only
      return store.listen(channelOf(store, topic), (payload) => onChange(payload), () => onChange(null));
    },
  };
}
