-- Who waits for whom, MySQL 8.0+: performance_schema.data_lock_waits, mapped to
-- processlist ids through INNODB_TRX (engine transaction ids are the trx_id values).
-- SELECT on performance_schema and PROCESS.
SELECT r.trx_mysql_thread_id AS waiting, b.trx_mysql_thread_id AS blocking,
       TIMESTAMPDIFF(SECOND, r.trx_wait_started, NOW()) * 1000 AS wait_ms
FROM performance_schema.data_lock_waits w
JOIN information_schema.INNODB_TRX r ON r.trx_id = w.REQUESTING_ENGINE_TRANSACTION_ID
JOIN information_schema.INNODB_TRX b ON b.trx_id = w.BLOCKING_ENGINE_TRANSACTION_ID
