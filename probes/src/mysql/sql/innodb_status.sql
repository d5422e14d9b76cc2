-- Fallback when INNODB_METRICS is unavailable: the "History list length N" line of the
-- monitor output (PROCESS privilege; the output is capped at 1 MB by the server).
SHOW ENGINE INNODB STATUS
