-- Recipient validation at RCPT time.

-- `listed` recipients are matched exactly against the lower-cased local part the relay looks
-- up, so lists are stored lower-cased; fold any row written before that rule.
INSERT INTO domain_recipients (domain_id, local_part, created_at)
    SELECT domain_id, lower(local_part), min(created_at)
    FROM domain_recipients
    WHERE local_part <> lower(local_part)
    GROUP BY domain_id, lower(local_part)
    ON CONFLICT DO NOTHING;
DELETE FROM domain_recipients WHERE local_part <> lower(local_part);

-- `verify`: the answers of callouts to the domain's target host, shared by every relay node.
-- `valid` is the RCPT reply class (2xx true, 5xx false; 4xx and failures are not stored).
-- A row past `expires_at` is asked again, but still answers while the target cannot be asked.
CREATE TABLE recipient_callouts (
    domain_id BIGINT NOT NULL REFERENCES relay_domains (id) ON DELETE CASCADE,
    local_part TEXT NOT NULL,
    valid BOOLEAN NOT NULL,
    -- The target's RCPT reply, e.g. `550 5.1.1 <bob@customer.example>: user unknown`.
    reply TEXT NOT NULL,
    checked_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    expires_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (domain_id, local_part)
);
-- Pruning of answers long expired.
CREATE INDEX recipient_callouts_expires_idx ON recipient_callouts (expires_at);

-- Answers of an old target, or of a policy no longer in force, say nothing about the new one.
CREATE FUNCTION recipient_callouts_forget() RETURNS trigger AS $$
BEGIN
    IF NEW.target_host IS DISTINCT FROM OLD.target_host
        OR NEW.target_port IS DISTINCT FROM OLD.target_port
        OR NEW.recipient_policy IS DISTINCT FROM OLD.recipient_policy THEN
        DELETE FROM recipient_callouts WHERE domain_id = NEW.id;
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER relay_domains_forget_callouts
    AFTER UPDATE OF target_host, target_port, recipient_policy ON relay_domains
    FOR EACH ROW EXECUTE FUNCTION recipient_callouts_forget();
