-- Webhooks: per-account HTTP callbacks for operational events.
--
-- Events are written to an outbox (webhook_events) by triggers on the tables the relay and the
-- API already write (target_events, deliveries, relay_domains), in the same transaction as the
-- change itself: no relay code knows about webhooks, an event exists exactly when its change
-- committed, and several nodes never produce it twice. The API process's dispatcher fans each
-- outbox row out to the matching webhooks (webhook_deliveries, one per webhook) and sends those
-- with retries. queue.threshold is not a change of one row; the dispatcher evaluates it itself.

CREATE TABLE webhooks (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    url TEXT NOT NULL,
    description TEXT,
    events TEXT[] NOT NULL,
    -- NULL: every domain the account may see; otherwise only these (still only visible ones).
    domain_ids BIGINT[],
    enabled BOOLEAN NOT NULL DEFAULT true,
    -- The HMAC key; kept in clear because signing needs it (like any webhook provider).
    secret TEXT NOT NULL,
    target_down_grace_seconds INTEGER NOT NULL DEFAULT 300
        CHECK (target_down_grace_seconds BETWEEN 0 AND 86400),
    queue_threshold_messages INTEGER CHECK (queue_threshold_messages >= 1),
    queue_threshold_age_seconds INTEGER CHECK (queue_threshold_age_seconds >= 1),
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX webhooks_account_idx ON webhooks (account_id, id);
-- The triggers below ask "does any webhook want this event type?" on every matching change.
CREATE INDEX webhooks_events_idx ON webhooks USING gin (events) WHERE enabled;

CREATE TABLE webhook_events (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_type TEXT NOT NULL,
    -- The domain a message or DNS event is about; NULL for target events.
    domain_id BIGINT,
    -- The target host a target event is about.
    host TEXT,
    port INTEGER,
    data JSONB NOT NULL,
    occurred_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE webhook_deliveries (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    webhook_id BIGINT NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    -- The outbox event it came from (the payload's "id"); outbox rows are removed once fanned out.
    event_id BIGINT,
    event_type TEXT NOT NULL,
    payload JSONB NOT NULL,
    -- pending: waiting for its next attempt (or being sent: next_attempt_at is then the end of
    -- the sender's lease); succeeded; failed (attempts exhausted); cancelled (a target.down whose
    -- target came back within the grace period).
    status TEXT NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'succeeded', 'failed', 'cancelled')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMPTZ,
    last_attempt_at TIMESTAMPTZ,
    last_status_code INTEGER,
    last_response TEXT,
    last_error TEXT,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (next_attempt_at, id)
    WHERE status = 'pending';
CREATE INDEX webhook_deliveries_webhook_idx ON webhook_deliveries (webhook_id, id);

-- Raised queue.threshold alerts: one per webhook and domain until the queue is back under the
-- threshold, so an alert is sent once per crossing.
CREATE TABLE webhook_queue_alerts (
    webhook_id BIGINT NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    domain_id BIGINT NOT NULL REFERENCES relay_domains (id) ON DELETE CASCADE,
    raised_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (webhook_id, domain_id)
);

CREATE FUNCTION webhooks_wanted(kind TEXT) RETURNS BOOLEAN AS $$
    SELECT EXISTS (SELECT 1 FROM webhooks WHERE enabled AND events @> ARRAY[kind]);
$$ LANGUAGE sql STABLE;

-- target.down / target.up from the target timeline. An up is an event only after a down; it
-- carries when the down began so each webhook can apply its grace period.
CREATE FUNCTION webhook_target_event() RETURNS trigger AS $$
DECLARE
    previous RECORD;
BEGIN
    IF NEW.state = 'down' THEN
        IF webhooks_wanted('target.down') THEN
            INSERT INTO webhook_events (event_type, host, port, data, occurred_at)
            VALUES ('target.down', NEW.host, NEW.port,
                    jsonb_build_object('host', NEW.host, 'port', NEW.port,
                                       'down_since', NEW.at, 'error', NEW.detail),
                    NEW.at);
        END IF;
    ELSIF NEW.state = 'up' AND webhooks_wanted('target.up') THEN
        SELECT state, at INTO previous FROM target_events
        WHERE host = NEW.host AND port = NEW.port AND id <> NEW.id AND at <= NEW.at
        ORDER BY at DESC, id DESC LIMIT 1;
        IF FOUND AND previous.state = 'down' THEN
            INSERT INTO webhook_events (event_type, host, port, data, occurred_at)
            VALUES ('target.up', NEW.host, NEW.port,
                    jsonb_build_object('host', NEW.host, 'port', NEW.port,
                                       'down_since', previous.at, 'up_since', NEW.at,
                                       'down_seconds',
                                       floor(extract(epoch FROM NEW.at - previous.at))::bigint,
                                       'detail', NEW.detail),
                    NEW.at);
        END IF;
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER webhook_target_event AFTER INSERT ON target_events
    FOR EACH ROW EXECUTE FUNCTION webhook_target_event();

-- message.bounced / message.expired when a recipient reaches that final state.
CREATE FUNCTION webhook_delivery_event() RETURNS trigger AS $$
DECLARE
    kind TEXT := 'message.' || NEW.state;
BEGIN
    IF webhooks_wanted(kind) THEN
        INSERT INTO webhook_events (event_type, domain_id, data)
        SELECT kind, NEW.domain_id,
               jsonb_build_object('delivery_id', NEW.id, 'message_id', NEW.message_id,
                                  'recipient', NEW.recipient, 'sender', m.sender,
                                  'subject', m.subject, 'received_at', m.received_at,
                                  'attempts', NEW.attempts, 'last_code', NEW.last_code,
                                  'last_reply', NEW.last_reply)
        FROM messages m WHERE m.id = NEW.message_id;
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER webhook_delivery_event AFTER UPDATE OF state ON deliveries
    FOR EACH ROW
    WHEN (NEW.state IN ('bounced', 'expired') AND OLD.state IS DISTINCT FROM NEW.state)
    EXECUTE FUNCTION webhook_delivery_event();

-- domain.dns_error when a stored DNS check turns to 'error'.
CREATE FUNCTION webhook_dns_event() RETURNS trigger AS $$
BEGIN
    IF webhooks_wanted('domain.dns_error') THEN
        INSERT INTO webhook_events (event_type, domain_id, data)
        VALUES ('domain.dns_error', NEW.id,
                jsonb_build_object('previous_status', OLD.dns_status,
                                   'checked_at', NEW.dns_checked_at, 'check', NEW.dns_check));
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER webhook_dns_event AFTER UPDATE OF dns_status ON relay_domains
    FOR EACH ROW
    WHEN (NEW.dns_status = 'error' AND OLD.dns_status IS DISTINCT FROM 'error')
    EXECUTE FUNCTION webhook_dns_event();
