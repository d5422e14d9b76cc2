-- Index columns in order, to find redundant indexes (one whose columns are a leading
-- prefix of another's). SUB_PART is the prefix length of partial indexes. Same on MySQL
-- and MariaDB; invisible (MySQL 8 IS_VISIBLE) or ignored (MariaDB 10.6 IGNORED) indexes
-- are still maintained on writes, so they count.
SELECT TABLE_SCHEMA, TABLE_NAME, INDEX_NAME, NON_UNIQUE, SEQ_IN_INDEX, COLUMN_NAME, SUB_PART,
       INDEX_TYPE
FROM information_schema.STATISTICS
WHERE TABLE_SCHEMA NOT IN ('mysql', 'information_schema', 'performance_schema', 'sys')
ORDER BY TABLE_SCHEMA, TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX
