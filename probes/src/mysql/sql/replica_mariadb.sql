-- MariaDB: every replication connection (multi-source since 10.0), one row each with
-- Connection_name. Needs REPLICATION CLIENT (< 10.5.9) or SLAVE MONITOR (10.5.9+).
SHOW ALL SLAVES STATUS
