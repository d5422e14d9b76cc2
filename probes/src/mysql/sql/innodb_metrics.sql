-- InnoDB counters (PROCESS privilege). trx_rseg_history_len is enabled by default on
-- MySQL 5.6+ and MariaDB; lock_deadlocks is enabled by default on MySQL 8.0 only.
-- Whether a counter is enabled is a column named STATUS ('enabled') on MySQL but
-- ENABLED (1/0) on MariaDB, so all columns are read and the code picks by name: a
-- disabled counter reads 0 and means "unknown", not zero.
SELECT * FROM information_schema.INNODB_METRICS
WHERE NAME IN ('trx_rseg_history_len', 'lock_deadlocks')
