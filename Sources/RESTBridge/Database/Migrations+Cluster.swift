extension Migrations {
    /// Migrations of several nodes on one database: the bus, leases, presence by node (docs/bus.md).
    static let cluster: [Migration] = [
        // Several nodes on one database (docs/bus.md): the bus stream, one row per publish (an
        // event batch lists its event ids; a message names its target), read by each node in
        // commit order through `txid` and the oldest running transaction; a row wakes the
        // listeners with an empty NOTIFY. Nodes hold leases on PostgreSQL's clock; each node's
        // presence is kept by node, and `hub_presence_users` counts the nodes a user is online on,
        // so exactly one transaction sees a user come online or go offline for the cluster.
        Migration(version: 10, name: "cluster bus, node leases, presence by node", sql: """
            CREATE TABLE hub_bus (
                id          bigserial PRIMARY KEY,
                txid        xid8 NOT NULL DEFAULT pg_current_xact_id(),
                node        text NOT NULL,
                kind        text NOT NULL CHECK (kind IN ('events', 'message', 'disconnect', 'room_removed', 'presence', 'node_gone')),
                users       bigint[],
                room        text,
                everyone    boolean NOT NULL DEFAULT false,
                event_ids   bigint[],
                notification_id bigint,
                payload     text,
                created_at  timestamptz NOT NULL DEFAULT now()
            );
            CREATE INDEX hub_bus_txid ON hub_bus (txid);
            CREATE INDEX hub_bus_created ON hub_bus (created_at);
            CREATE FUNCTION hub_bus_wake() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN PERFORM pg_notify('hub_bus', ''); RETURN NULL; END $$;
            CREATE TRIGGER hub_bus_wake AFTER INSERT ON hub_bus FOR EACH ROW EXECUTE FUNCTION hub_bus_wake();

            CREATE TABLE hub_nodes (
                node_id     text PRIMARY KEY,
                started_at  timestamptz NOT NULL DEFAULT now(),
                lease_until timestamptz NOT NULL,
                address     text
            );

            CREATE TABLE hub_presence (
                node        text NOT NULL,
                user_id     bigint NOT NULL,
                room        text NOT NULL,
                name        text NOT NULL DEFAULT '',
                role        text NOT NULL DEFAULT '',
                PRIMARY KEY (node, user_id, room)
            );
            CREATE TABLE hub_presence_users (
                user_id     bigint PRIMARY KEY,
                nodes       integer NOT NULL
            );
            """),
        // The bus's wake-up names the node that wrote (a node's reader ignores its own: a single
        // node read the bus on every one of its own events). notifications_unread is covered by
        // notifications_unread_state (same key, same predicate): one index less per notification.
        Migration(version: 17, name: "bus wake-up names its node; one unread index", sql: """
            CREATE OR REPLACE FUNCTION hub_bus_wake() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN PERFORM pg_notify('hub_bus', NEW.node); RETURN NULL; END $$;
            DROP INDEX notifications_unread;
            """),
        // What the operator console shows of the other nodes, written with each lease renewal.
        Migration(version: 18, name: "node vitals with the lease", sql: """
            ALTER TABLE hub_nodes ADD COLUMN version text NOT NULL DEFAULT '',
                ADD COLUMN sessions integer NOT NULL DEFAULT 0, ADD COLUMN bus_lag_ms bigint NOT NULL DEFAULT 0;
            """),
    ]
}
