-- The operating system under the server. sys.dm_os_host_info exists from SQL Server
-- 2017; on 2016 the query fails with error 208 and the platform is Windows.
SELECT
    host_platform,
    host_distribution,
    host_release
FROM sys.dm_os_host_info;
