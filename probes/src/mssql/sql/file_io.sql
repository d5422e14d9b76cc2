-- Cumulative I/O per database file, read at the start and the end of the window.
-- sys.master_files names the files only for a login with VIEW ANY DEFINITION (or
-- CREATE/ALTER ANY DATABASE); without it the numbers are still read (VIEW SERVER
-- STATE) and the file is named by its id, the log being file 2 as SQL Server creates it.
SELECT
    DB_NAME(vfs.database_id) AS database_name,
    vfs.file_id,
    COALESCE(mf.name, CONCAT('file ', vfs.file_id)) AS file_name,
    COALESCE(mf.type_desc, CASE WHEN vfs.file_id = 2 THEN 'LOG' ELSE 'ROWS' END) AS type_desc,
    mf.physical_name,
    vfs.num_of_reads AS reads,
    vfs.num_of_bytes_read AS bytes_read,
    vfs.io_stall_read_ms AS read_stall_ms,
    vfs.num_of_writes AS writes,
    vfs.num_of_bytes_written AS bytes_written,
    vfs.io_stall_write_ms AS write_stall_ms,
    vfs.size_on_disk_bytes AS size_bytes,
    SYSUTCDATETIME() AS read_at
FROM sys.dm_io_virtual_file_stats(NULL, NULL) AS vfs
LEFT JOIN sys.master_files AS mf
    ON mf.database_id = vfs.database_id AND mf.file_id = vfs.file_id
ORDER BY vfs.database_id, vfs.file_id;
