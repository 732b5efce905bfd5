DROP INDEX delivery_attempts_source_idx;
DROP TABLE whitelist_checks;
