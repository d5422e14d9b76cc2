-- Start-of-window reading of every statement digest, without the text (it is read at
-- the end only). The table is bounded by performance_schema_digests_size (10,000 by
-- default). Timers are in picoseconds. Same columns on MySQL 5.6+ and MariaDB 10.0+;
-- SCHEMA_NAME is NULL for statements run without a default database.
SELECT SCHEMA_NAME, DIGEST, COUNT_STAR, SUM_TIMER_WAIT, SUM_ROWS_SENT, SUM_ROWS_EXAMINED,
       SUM_CREATED_TMP_TABLES, SUM_CREATED_TMP_DISK_TABLES, SUM_NO_INDEX_USED,
       SUM_NO_GOOD_INDEX_USED, SUM_ERRORS
FROM performance_schema.events_statements_summary_by_digest
WHERE DIGEST IS NOT NULL
