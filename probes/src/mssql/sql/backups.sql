-- The last backup of each kind per database, from msdb's history. This needs a user in
-- msdb with SELECT on dbo.backupset (see docs/mssql.md). backup_finish_date is the
-- server's local time: turned into UTC here.
SELECT
    bs.database_name,
    DATEADD(minute, clock.utc_offset_min, MAX(CASE WHEN bs.type = 'D' THEN bs.backup_finish_date END)) AS last_full_backup,
    DATEADD(minute, clock.utc_offset_min, MAX(CASE WHEN bs.type = 'I' THEN bs.backup_finish_date END)) AS last_diff_backup,
    DATEADD(minute, clock.utc_offset_min, MAX(CASE WHEN bs.type = 'L' THEN bs.backup_finish_date END)) AS last_log_backup
FROM msdb.dbo.backupset AS bs
CROSS JOIN (SELECT DATEDIFF(minute, SYSDATETIME(), SYSUTCDATETIME()) AS utc_offset_min) AS clock
GROUP BY bs.database_name, clock.utc_offset_min
ORDER BY bs.database_name;
