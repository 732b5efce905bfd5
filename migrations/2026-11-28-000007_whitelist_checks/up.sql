-- The whitelist report's own evidence: SMTP sessions opened from each egress address to a
-- domain's target, up to RCPT (POST /api/v1/domains/{id}/whitelist/verify). Only the latest
-- few per domain and source address are kept (the API prunes older ones as it records).
CREATE TABLE whitelist_checks (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    domain_id BIGINT NOT NULL REFERENCES relay_domains (id) ON DELETE CASCADE,
    source_ip TEXT NOT NULL,
    target_host TEXT NOT NULL,
    target_port INTEGER NOT NULL,
    target_ip TEXT,
    recipient TEXT NOT NULL,
    checked_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    duration_ms INTEGER NOT NULL,
    -- Where the session ended: could not bind the source address, connect, the greeting,
    -- EHLO, MAIL FROM, or RCPT TO (the last step; QUIT follows).
    stage TEXT NOT NULL CHECK (stage IN ('bind', 'resolve', 'connect', 'greeting', 'ehlo', 'mail', 'rcpt')),
    outcome TEXT NOT NULL CHECK (outcome IN ('accepted', 'rejected', 'tempfail', 'error')),
    code INTEGER,
    reply TEXT NOT NULL,
    -- Every command sent and reply received: [{"command": "EHLO …", "reply": "250 …"}, …].
    transcript JSONB NOT NULL DEFAULT '[]'
);
CREATE INDEX whitelist_checks_source_idx
    ON whitelist_checks (domain_id, source_ip, checked_at DESC);

-- The report reads the latest attempts per domain and source address; without this index an
-- egress address the relay never used would scan all of a domain's attempts.
CREATE INDEX delivery_attempts_source_idx
    ON delivery_attempts (domain_id, source_ip, started_at DESC)
    WHERE source_ip IS NOT NULL;
