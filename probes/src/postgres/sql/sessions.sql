-- One sample of sessions, run at every tick: the count of client backends (for the
-- connection peak) and every non-idle session but our own, with its wait and ages.
-- pg_blocking_pids() takes the lock manager's partition locks, so it is only called
-- for sessions waiting on a heavyweight lock. The LEFT JOIN keeps one row with the
-- count even when nothing is active. {query_id} is a.query_id (PostgreSQL 14+, when
-- compute_query_id is on) or NULL::int8 on older versions.
WITH n AS (
    SELECT count(*) FILTER (WHERE backend_type = 'client backend')::int8 AS client_backends
    FROM pg_stat_activity
), a AS (
    SELECT a.pid, a.datname, a.usename, a.application_name, host(a.client_addr) AS client_addr,
           a.backend_type, a.state, a.wait_event_type, a.wait_event,
           (extract(epoch FROM clock_timestamp() - a.query_start) * 1000)::float8 AS query_age_ms,
           (extract(epoch FROM clock_timestamp() - a.xact_start) * 1000)::float8 AS xact_age_ms,
           (extract(epoch FROM clock_timestamp() - a.state_change) * 1000)::float8 AS state_age_ms,
           CASE WHEN a.wait_event_type = 'Lock'
                THEN array_to_string(pg_blocking_pids(a.pid), ',') END AS blocked_by,
           {query_id} AS query_id,
           a.query
    FROM pg_stat_activity a
    WHERE a.pid <> pg_backend_pid() AND a.state IS NOT NULL AND a.state <> 'idle'
)
SELECT n.client_backends, a.pid::int8, a.datname::text, a.usename::text,
       a.application_name::text, a.client_addr::text, a.backend_type::text, a.state::text,
       a.wait_event_type::text, a.wait_event::text, a.query_age_ms, a.xact_age_ms,
       a.state_age_ms, a.blocked_by::text, a.query_id::int8, a.query::text
FROM n LEFT JOIN a ON true
