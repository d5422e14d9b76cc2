-- The (already normalised) text of the statements kept in the top N, fetched once at
-- the end of the window. The text is masked again before it is stored.
-- {schema} is the quoted schema the extension was installed in.
SELECT DISTINCT ON (queryid) queryid::int8, query::text
FROM {schema}.pg_stat_statements(true)
WHERE queryid = ANY($1)
