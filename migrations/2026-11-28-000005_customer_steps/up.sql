-- Per-domain settings for the customer's steps 2 and 3 and for recipient validation.

-- Backup-only mode: while the target host is up, RCPT for the domain is answered 451 4.7.1 so
-- senders keep using the primary; mail is accepted only while the target is down.
ALTER TABLE relay_domains
    ADD COLUMN accept_only_when_primary_down BOOLEAN NOT NULL DEFAULT false,
    -- recipient_policy 'verify': how long a callout's answer is trusted, and what to answer
    -- while the target cannot be asked and no cached answer exists.
    ADD COLUMN verify_valid_ttl_seconds INTEGER NOT NULL DEFAULT 604800
        CHECK (verify_valid_ttl_seconds BETWEEN 60 AND 2592000),
    ADD COLUMN verify_invalid_ttl_seconds INTEGER NOT NULL DEFAULT 86400
        CHECK (verify_invalid_ttl_seconds BETWEEN 60 AND 2592000),
    ADD COLUMN verify_fallback TEXT NOT NULL DEFAULT 'tempfail'
        CHECK (verify_fallback IN ('accept', 'tempfail')),
    -- The latest live DNS check: overall status, when, and the named checks (JSON).
    ADD COLUMN dns_status TEXT CHECK (dns_status IN ('ok', 'warning', 'error')),
    ADD COLUMN dns_checked_at TIMESTAMPTZ,
    ADD COLUMN dns_check JSONB;

CREATE INDEX relay_domains_dns_status_idx ON relay_domains (dns_status, id)
    WHERE dns_status IS NOT NULL;

-- The local address a delivery attempt left from: the whitelist report's evidence per egress IP.
ALTER TABLE delivery_attempts ADD COLUMN source_ip TEXT;

-- Relay nodes reload their domain table only for changes that matter to the relay, so a DNS
-- check of 100,000 domains does not make every node reload 100,000 times.
DROP TRIGGER relay_domains_changed ON relay_domains;
CREATE TRIGGER relay_domains_changed
    AFTER INSERT OR DELETE OR TRUNCATE ON relay_domains
    FOR EACH STATEMENT EXECUTE FUNCTION relay_domains_notify();
CREATE TRIGGER relay_domains_updated
    AFTER UPDATE OF name, type, owner_id, target_host, target_port, service, enabled,
        tls_policy, max_message_size, queue_lifetime_seconds, recipient_policy,
        accept_only_when_primary_down, verify_valid_ttl_seconds, verify_invalid_ttl_seconds,
        verify_fallback
    ON relay_domains
    FOR EACH STATEMENT EXECUTE FUNCTION relay_domains_notify();
