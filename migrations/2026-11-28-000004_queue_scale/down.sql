-- Code before this migration knows nothing of parking: make parked recipients due again, so
-- they are delivered (or skipped while their target is down) the old way.
UPDATE deliveries SET next_attempt_at = now(), updated_at = now()
WHERE state IN ('queued', 'deferred') AND next_attempt_at >= '9999-12-31 00:00:00+00';
DROP INDEX IF EXISTS deliveries_domain_due_idx;
