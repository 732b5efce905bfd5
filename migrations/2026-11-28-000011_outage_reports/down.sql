DROP INDEX IF EXISTS deliveries_domain_received_idx;
