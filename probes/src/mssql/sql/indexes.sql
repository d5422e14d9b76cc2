-- The indexes of the connected database's user tables with their use since the server
-- started and their size: the {top} most written first (unused indexes with heavy
-- writes are what this is for). The catalog shows only the objects this login may see
-- (VIEW DEFINITION in the database, or VIEW ANY DEFINITION on the server).
-- Key columns are joined with FOR XML PATH, which SQL Server 2016 has (STRING_AGG
-- needs 2017).
SELECT TOP ({top})
    DB_NAME() AS database_name,
    s.name AS schema_name,
    o.name AS table_name,
    i.name AS index_name,
    i.type_desc,
    i.is_unique,
    i.is_primary_key,
    STUFF((
        SELECT ', ' + c.name
        FROM sys.index_columns AS ic
        JOIN sys.columns AS c ON c.object_id = ic.object_id AND c.column_id = ic.column_id
        WHERE ic.object_id = i.object_id AND ic.index_id = i.index_id AND ic.key_ordinal > 0
        ORDER BY ic.key_ordinal
        FOR XML PATH('')
    ), 1, 2, '') AS key_columns,
    COALESCE(us.user_seeks, 0) AS user_seeks,
    COALESCE(us.user_scans, 0) AS user_scans,
    COALESCE(us.user_lookups, 0) AS user_lookups,
    COALESCE(us.user_updates, 0) AS user_updates,
    ps.size_bytes,
    ps.row_count AS row_count
FROM sys.indexes AS i
JOIN sys.objects AS o ON o.object_id = i.object_id AND o.type = 'U' AND o.is_ms_shipped = 0
JOIN sys.schemas AS s ON s.schema_id = o.schema_id
LEFT JOIN sys.dm_db_index_usage_stats AS us
    ON us.database_id = DB_ID() AND us.object_id = i.object_id AND us.index_id = i.index_id
LEFT JOIN (
    SELECT object_id, index_id,
        SUM(used_page_count) * 8192 AS size_bytes,
        SUM(row_count) AS row_count
    FROM sys.dm_db_partition_stats
    GROUP BY object_id, index_id
) AS ps ON ps.object_id = i.object_id AND ps.index_id = i.index_id
WHERE i.type > 0
ORDER BY COALESCE(us.user_updates, 0) DESC, ps.size_bytes DESC;
