-- Databases and their sizes. pg_database_size() needs CONNECT on the database or
-- pg_read_all_stats (in pg_monitor): check first so one locked-down database does
-- not fail the whole query.
SELECT datname::text AS name,
       CASE WHEN has_database_privilege(oid, 'CONNECT')
                 OR pg_has_role(current_user, 'pg_read_all_stats', 'USAGE')
            THEN pg_database_size(oid) END::int8 AS size_bytes
FROM pg_database
WHERE datallowconn
ORDER BY datname
