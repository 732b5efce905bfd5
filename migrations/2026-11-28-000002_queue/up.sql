-- The durable mail queue shared by every relay node. One row per message, one row per
-- recipient (its delivery), one row per delivery attempt; target host health beside it.

CREATE TABLE messages (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- Envelope sender; '' is the null sender (<>), which never receives a DSN.
    sender TEXT NOT NULL,
    client_ip TEXT NOT NULL,
    helo TEXT NOT NULL,
    tls BOOLEAN NOT NULL DEFAULT false,
    size BIGINT NOT NULL CHECK (size >= 0),
    -- Header summary kept out of the body so listings never read it.
    subject TEXT,
    message_id_header TEXT,
    -- The message as it will be relayed, Received: header included.
    body BYTEA NOT NULL,
    received_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    dsn_sent_at TIMESTAMPTZ
);
CREATE INDEX messages_received_at_idx ON messages (received_at, id);
CREATE INDEX messages_sender_idx ON messages (sender, id);

CREATE TABLE deliveries (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    message_id BIGINT NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    domain_id BIGINT NOT NULL REFERENCES relay_domains (id) ON DELETE CASCADE,
    recipient TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'queued' CHECK (
        state IN ('queued', 'deferred', 'delivering', 'delivered', 'bounced', 'expired', 'held')
    ),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    expires_at TIMESTAMPTZ NOT NULL,
    -- Claim lease: a worker owns the row until lease_until; after that any node may take it.
    lease_owner TEXT,
    lease_until TIMESTAMPTZ,
    last_code INTEGER,
    last_reply TEXT,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
-- Claims scan only due, unfinished rows.
CREATE INDEX deliveries_due_idx ON deliveries (next_attempt_at, id)
    WHERE state IN ('queued', 'deferred');
CREATE INDEX deliveries_lease_idx ON deliveries (lease_until) WHERE state = 'delivering';
CREATE INDEX deliveries_domain_state_idx ON deliveries (domain_id, state, id);
CREATE INDEX deliveries_state_idx ON deliveries (state, id);
CREATE INDEX deliveries_message_idx ON deliveries (message_id);
CREATE INDEX deliveries_recipient_idx ON deliveries (recipient, id);

CREATE TABLE delivery_attempts (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    delivery_id BIGINT NOT NULL REFERENCES deliveries (id) ON DELETE CASCADE,
    domain_id BIGINT NOT NULL REFERENCES relay_domains (id) ON DELETE CASCADE,
    started_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    duration_ms INTEGER NOT NULL,
    target_host TEXT NOT NULL,
    target_ip TEXT,
    tls BOOLEAN NOT NULL DEFAULT false,
    code INTEGER,
    reply TEXT NOT NULL,
    outcome TEXT NOT NULL CHECK (outcome IN ('delivered', 'deferred', 'bounced'))
);
CREATE INDEX delivery_attempts_delivery_idx ON delivery_attempts (delivery_id, started_at);
CREATE INDEX delivery_attempts_domain_idx ON delivery_attempts (domain_id, started_at DESC);

CREATE TABLE targets (
    host TEXT NOT NULL,
    port INTEGER NOT NULL,
    state TEXT NOT NULL DEFAULT 'unknown' CHECK (state IN ('unknown', 'up', 'down')),
    changed_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_probe_at TIMESTAMPTZ,
    next_probe_at TIMESTAMPTZ,
    probe_interval_ms INTEGER NOT NULL DEFAULT 5000,
    last_error TEXT,
    PRIMARY KEY (host, port)
);

CREATE TABLE target_events (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    host TEXT NOT NULL,
    port INTEGER NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('up', 'down')),
    at TIMESTAMPTZ NOT NULL DEFAULT now(),
    detail TEXT
);
CREATE INDEX target_events_target_idx ON target_events (host, port, at DESC);
