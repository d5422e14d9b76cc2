-- Identity of the server and of our own session. Readable by any role.
-- pg_postmaster_start_time() exists since 8.1; pg_is_in_recovery() since 9.0.
SELECT current_setting('server_version_num')::int8 AS server_version_num,
       version() AS version,
       pg_postmaster_start_time() AS started_at,
       extract(epoch FROM now() - pg_postmaster_start_time())::float8 AS uptime_secs,
       current_database()::text AS database,
       current_user::text AS username,
       (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) AS is_superuser,
       pg_is_in_recovery() AS in_recovery
