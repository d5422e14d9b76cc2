-- CPU, memory and scheduler facts. socket_count, cores_per_socket and numa_node_count
-- exist from SQL Server 2016 SP2 (and 2017); older builds fail with error 207.
-- The uptime comes from the two tick counters, so no time zone is involved.
SELECT
    cpu_count,
    hyperthread_ratio,
    socket_count,
    cores_per_socket,
    numa_node_count,
    scheduler_count,
    physical_memory_kb,
    committed_kb,
    committed_target_kb,
    max_workers_count,
    virtual_machine_type_desc,
    (ms_ticks - sqlserver_start_time_ms_ticks) / 1000 AS uptime_s
FROM sys.dm_os_sys_info;
