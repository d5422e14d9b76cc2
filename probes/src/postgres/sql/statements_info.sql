-- When pg_stat_statements was last reset and how many entries it evicted
-- (extension 1.9+, PostgreSQL 14+). {schema} is the quoted schema the extension was
-- installed in.
SELECT stats_reset, dealloc::int8 FROM {schema}.pg_stat_statements_info
