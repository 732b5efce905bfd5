-- Message bodies compressed with lz4 instead of pglz: every accepted message is compressed
-- once at intake and decompressed at each delivery attempt, and pglz was one of the largest
-- single costs of intake in PostgreSQL (lz4 is several times faster at a similar ratio for
-- mail text). Only new rows use it; existing bodies stay readable as they are. A server
-- built without lz4 keeps pglz.
DO $$
BEGIN
    ALTER TABLE messages ALTER COLUMN body SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported THEN
    RAISE NOTICE 'lz4 is not available in this PostgreSQL build; message bodies stay pglz';
END
$$;
