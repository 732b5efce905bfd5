CREATE OR REPLACE FUNCTION relay_domains_notify() RETURNS trigger AS $$
BEGIN
    PERFORM pg_notify('mxspool_domains', '');
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
DROP TABLE domain_table_version;
DROP INDEX messages_dsn_pending_idx;
DROP INDEX deliveries_expiry_idx;
DELETE FROM delivery_attempts WHERE domain_id IS NULL;
ALTER TABLE delivery_attempts ALTER COLUMN domain_id SET NOT NULL;
DELETE FROM deliveries WHERE route = 'mx';
ALTER TABLE deliveries DROP CONSTRAINT deliveries_route_domain;
ALTER TABLE deliveries DROP COLUMN route;
ALTER TABLE deliveries ALTER COLUMN domain_id SET NOT NULL;
