-- MySQL session limits. max_execution_time is in MILLISECONDS and bounds read-only
-- SELECT statements only (MySQL 5.7.8+; unknown before: the probe then records that
-- only client-side timeouts apply). SHOW statements are not covered: they are cheap,
-- and the client-side timeout still bounds them.
-- {statement_ms}, {lock_s}, {innodb_lock_s} are filled in from DbOptions.
SET SESSION max_execution_time = {statement_ms}, SESSION lock_wait_timeout = {lock_s}, SESSION innodb_lock_wait_timeout = {innodb_lock_s}
