-- Memory as the server sees it: the Memory Manager and Buffer Manager counters (their
-- object_name starts with SQLServer: or MSSQL$INSTANCE:), the process and the OS.
SELECT
    (SELECT MAX(cntr_value) FROM sys.dm_os_performance_counters
     WHERE object_name LIKE '%Memory Manager%' AND counter_name = 'Total Server Memory (KB)') AS total_server_kb,
    (SELECT MAX(cntr_value) FROM sys.dm_os_performance_counters
     WHERE object_name LIKE '%Memory Manager%' AND counter_name = 'Target Server Memory (KB)') AS target_server_kb,
    (SELECT MAX(cntr_value) FROM sys.dm_os_performance_counters
     WHERE object_name LIKE '%Buffer Manager%' AND counter_name = 'Page life expectancy') AS page_life_expectancy_s,
    (SELECT MAX(cntr_value) FROM sys.dm_os_performance_counters
     WHERE object_name LIKE '%Memory Manager%' AND counter_name = 'Memory Grants Pending') AS memory_grants_pending,
    pm.physical_memory_in_use_kb,
    pm.locked_page_allocations_kb,
    pm.process_physical_memory_low,
    sm.available_physical_memory_kb,
    sm.system_low_memory_signal_state
FROM sys.dm_os_process_memory AS pm
CROSS JOIN sys.dm_os_sys_memory AS sm;
