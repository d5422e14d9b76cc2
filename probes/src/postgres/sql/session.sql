-- Run once after connecting. The startup packet already set
-- default_transaction_read_only, statement_timeout and lock_timeout (see connect.rs);
-- this makes the read-only intent explicit for the whole session as well.
SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY
