-- Connection limits and client backends by state. backend_type exists since 10;
-- reserved_connections is PostgreSQL 16+, read with missing_ok so older versions
-- give NULL.
SELECT current_setting('max_connections')::int8 AS max_connections,
       (current_setting('superuser_reserved_connections')::int8
        + coalesce(nullif(current_setting('reserved_connections', true), '')::int8, 0))
           AS reserved_connections,
       coalesce(a.state, 'unknown')::text AS state,
       count(a.pid)::int8 AS sessions
FROM (SELECT 1) one
LEFT JOIN pg_stat_activity a ON a.backend_type = 'client backend'
GROUP BY a.state
ORDER BY 3
