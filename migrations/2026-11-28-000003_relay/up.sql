-- What the relay engine needs beyond the first queue schema.

-- Deliveries either relay to a domain's target host (route 'relay', domain_id set) or go to
-- the MX of the recipient's own domain (route 'mx': DSNs to envelope senders, domain_id null).
ALTER TABLE deliveries ALTER COLUMN domain_id DROP NOT NULL;
ALTER TABLE deliveries ADD COLUMN route TEXT NOT NULL DEFAULT 'relay' CHECK (route IN ('relay', 'mx'));
ALTER TABLE deliveries ADD CONSTRAINT deliveries_route_domain CHECK ((route = 'relay') = (domain_id IS NOT NULL));
ALTER TABLE delivery_attempts ALTER COLUMN domain_id DROP NOT NULL;

-- Expiry scans only unfinished rows.
CREATE INDEX deliveries_expiry_idx ON deliveries (expires_at) WHERE state IN ('queued', 'deferred');
-- DSN bookkeeping looks for finished messages still owing a report.
CREATE INDEX messages_dsn_pending_idx ON messages (id) WHERE dsn_sent_at IS NULL;

-- A counter bumped by every change to relay_domains: relay nodes poll this one row (and
-- LISTEN on mxspool_domains) and reload their domain table when it moves.
CREATE TABLE domain_table_version (
    id INTEGER PRIMARY KEY DEFAULT 1 CHECK (id = 1),
    version BIGINT NOT NULL DEFAULT 0
);
INSERT INTO domain_table_version (id, version) VALUES (1, 0);

CREATE OR REPLACE FUNCTION relay_domains_notify() RETURNS trigger AS $$
BEGIN
    UPDATE domain_table_version SET version = version + 1 WHERE id = 1;
    PERFORM pg_notify('mxspool_domains', '');
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
