-- One sample of sessions, MariaDB and MySQL 5.7 (and MySQL 8 with performance_schema
-- OFF). Only sessions doing something, or idle inside a transaction: a server with
-- hundreds of idle pooled connections returns a few rows. TIME_MS is MariaDB-only
-- ({time_ms} is "p.TIME_MS" there, "p.TIME * 1000" on MySQL). INNODB_TRX needs
-- PROCESS; trx_started has one-second precision.
SELECT p.ID, p.USER, p.HOST, p.DB, p.COMMAND, p.STATE, {time_ms} AS TIME_MS, p.INFO,
       TIMESTAMPDIFF(SECOND, t.trx_started, NOW()) * 1000 AS TRX_AGE_MS, t.trx_state
FROM information_schema.PROCESSLIST p
LEFT JOIN information_schema.INNODB_TRX t ON t.trx_mysql_thread_id = p.ID
WHERE p.ID <> CONNECTION_ID() AND p.COMMAND NOT IN ('Daemon', 'Binlog Dump', 'Binlog Dump GTID')
  AND (p.COMMAND <> 'Sleep' OR t.trx_id IS NOT NULL)
