DROP TRIGGER relay_domains_updated ON relay_domains;
DROP TRIGGER relay_domains_changed ON relay_domains;
CREATE TRIGGER relay_domains_changed
    AFTER INSERT OR UPDATE OR DELETE ON relay_domains
    FOR EACH STATEMENT EXECUTE FUNCTION relay_domains_notify();
ALTER TABLE delivery_attempts DROP COLUMN source_ip;
DROP INDEX relay_domains_dns_status_idx;
ALTER TABLE relay_domains
    DROP COLUMN dns_check,
    DROP COLUMN dns_checked_at,
    DROP COLUMN dns_status,
    DROP COLUMN verify_fallback,
    DROP COLUMN verify_invalid_ttl_seconds,
    DROP COLUMN verify_valid_ttl_seconds,
    DROP COLUMN accept_only_when_primary_down;
