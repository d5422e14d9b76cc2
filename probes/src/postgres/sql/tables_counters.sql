-- Scan counters of every user table of the connected database at the start of the
-- window: integers only, no sizes, no locks, so it stays cheap with 10,000 tables.
SELECT relid::int8,
       seq_scan::int8,
       seq_tup_read::int8,
       idx_scan::int8,
       idx_tup_fetch::int8,
       (n_tup_ins + n_tup_upd + n_tup_del)::int8 AS n_tup_mod
FROM pg_stat_user_tables
