/* perfdiag */
-- Whether this account sees the `mysql` schema's tables in information_schema: only
-- accounts with broad privileges do. When they see none of the user tables either,
-- the server simply has none (as opposed to a monitoring account that may see
-- nothing at all). Works alike on MySQL 5.7/8 and MariaDB.
SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'mysql'
