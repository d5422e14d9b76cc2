-- Query Store of one database, read through a three-part name (no USE): {database} is
-- the database's name in brackets. Run for ONLINE user databases only; reading it needs
-- access to the database (a user in it, or CONNECT ANY DATABASE).
SELECT
    actual_state_desc,
    desired_state_desc,
    readonly_reason,
    current_storage_size_mb,
    max_storage_size_mb,
    query_capture_mode_desc
FROM {database}.sys.database_query_store_options;
