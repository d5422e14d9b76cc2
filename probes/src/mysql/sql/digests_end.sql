-- End-of-window reading: only digests seen during the window ({since} is the server's
-- own NOW(6) read at the start, so both clocks are the server's). DIGEST_TEXT is
-- already normalised by the server ("WHERE a = ?"), and masked again before storing.
SELECT SCHEMA_NAME, DIGEST, COUNT_STAR, SUM_TIMER_WAIT, SUM_ROWS_SENT, SUM_ROWS_EXAMINED,
       SUM_CREATED_TMP_TABLES, SUM_CREATED_TMP_DISK_TABLES, SUM_NO_INDEX_USED,
       SUM_NO_GOOD_INDEX_USED, SUM_ERRORS, DIGEST_TEXT
FROM performance_schema.events_statements_summary_by_digest
WHERE DIGEST IS NOT NULL AND LAST_SEEN >= '{since}'
