-- Each relay domain's waiting mail in due order. It makes the queue work that concerns one
-- target host bounded by that target's due mail rather than by its whole queue:
--  * parking (store/src/targets.rs): when a target is down, its due recipients get
--    next_attempt_at = '9999-12-31 00:00:00+00' (the "parked" sentinel), which takes them out of
--    the due range of deliveries_due_idx, so claims no longer walk over a down target's
--    backlog. Parking runs on every failed probe and touches only rows due now, found here;
--  * unparking a domain whose target changed (next_attempt_at >= the sentinel) and flushing
--    a target that is back (next_attempt_at > now()) read one range per domain.
-- IF NOT EXISTS: an operator with a large queue may build it beforehand with
-- CREATE INDEX CONCURRENTLY under this name, so that this migration does not block intake.
CREATE INDEX IF NOT EXISTS deliveries_domain_due_idx ON deliveries (domain_id, next_attempt_at)
    WHERE state IN ('queued', 'deferred');
