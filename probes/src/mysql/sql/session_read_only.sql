-- Every transaction of this session is read-only: an accidental write fails at once
-- (MySQL 5.6.5+, MariaDB 10.0+).
SET SESSION TRANSACTION READ ONLY
