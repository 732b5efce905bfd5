-- Outage reports (GET /domains/{id}/outages) count, per period a domain's target was down,
-- the domain's recipients received during it: one range of this index per outage, so a
-- report costs the mail of the outages it shows, never the domain's whole history.
-- `deliveries.created_at` is set in the intake transaction, equal to `messages.received_at`.
-- IF NOT EXISTS: an operator with a large queue may build it beforehand with
-- CREATE INDEX CONCURRENTLY under this name, so that this migration does not block intake.
CREATE INDEX IF NOT EXISTS deliveries_domain_received_idx ON deliveries (domain_id, created_at);
