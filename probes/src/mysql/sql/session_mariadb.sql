-- MariaDB session limits. max_statement_time is in SECONDS (decimal) and applies to
-- every statement, including SHOW (MariaDB 10.1+). lock_wait_timeout bounds metadata
-- locks (seconds), innodb_lock_wait_timeout row locks (seconds, integer, min 1).
-- {statement_s}, {lock_s}, {innodb_lock_s} are filled in from DbOptions.
SET SESSION max_statement_time = {statement_s}, SESSION lock_wait_timeout = {lock_s}, SESSION innodb_lock_wait_timeout = {innodb_lock_s}
