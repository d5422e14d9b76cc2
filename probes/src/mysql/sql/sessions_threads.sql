-- One sample of sessions, MySQL 8 with performance_schema ON: performance_schema.threads
-- does not take the global mutex information_schema.PROCESSLIST takes (deprecated in
-- 8.0.35). PROCESSLIST_TIME is in seconds.
SELECT th.PROCESSLIST_ID, th.PROCESSLIST_USER, th.PROCESSLIST_HOST, th.PROCESSLIST_DB,
       th.PROCESSLIST_COMMAND, th.PROCESSLIST_STATE, th.PROCESSLIST_TIME * 1000 AS TIME_MS,
       th.PROCESSLIST_INFO,
       TIMESTAMPDIFF(SECOND, t.trx_started, NOW()) * 1000 AS TRX_AGE_MS, t.trx_state
FROM performance_schema.threads th
LEFT JOIN information_schema.INNODB_TRX t ON t.trx_mysql_thread_id = th.PROCESSLIST_ID
WHERE th.TYPE = 'FOREGROUND' AND th.PROCESSLIST_ID <> CONNECTION_ID()
  AND th.PROCESSLIST_COMMAND NOT IN ('Daemon', 'Binlog Dump', 'Binlog Dump GTID')
  AND (th.PROCESSLIST_COMMAND <> 'Sleep' OR t.trx_id IS NOT NULL)
