-- Who waits for whom, MariaDB and MySQL 5.7: information_schema.INNODB_LOCK_WAITS
-- (removed in MySQL 8.0). Thread ids are processlist ids. PROCESS privilege.
SELECT r.trx_mysql_thread_id AS waiting, b.trx_mysql_thread_id AS blocking,
       TIMESTAMPDIFF(SECOND, r.trx_wait_started, NOW()) * 1000 AS wait_ms
FROM information_schema.INNODB_LOCK_WAITS w
JOIN information_schema.INNODB_TRX r ON r.trx_id = w.requesting_trx_id
JOIN information_schema.INNODB_TRX b ON b.trx_id = w.blocking_trx_id
