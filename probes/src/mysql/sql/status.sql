-- All global status counters, as text; read at the start and the end of the window.
-- Differences handled in code: Table_open_cache_misses exists on MySQL 5.6.6+ and
-- MariaDB 10.1+ (else Opened_tables); Innodb_deadlocks is MariaDB-only.
SHOW GLOBAL STATUS
