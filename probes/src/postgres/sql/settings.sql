-- Every setting with its unit and source. pg_settings is readable by any role, but
-- values of superuser-only settings (e.g. data_directory) need pg_read_all_settings
-- (granted by pg_monitor); without it they read as NULL or are hidden.
-- pending_restart exists since 9.5.
SELECT name::text,
       setting::text,
       unit::text,
       vartype::text,
       source::text,
       pending_restart
FROM pg_settings
ORDER BY name
