-- Who and what the server is, and what this login may see. SERVERPROPERTY returns
-- sql_variant, which the client cannot decode: every property is cast.
-- ProductUpdateLevel is NULL on RTM builds and before SQL Server 2012 SP3.
SELECT
    @@VERSION AS version,
    CAST(SERVERPROPERTY('ProductVersion') AS nvarchar(128)) AS product_version,
    CAST(SERVERPROPERTY('ProductLevel') AS nvarchar(128)) AS product_level,
    CAST(SERVERPROPERTY('ProductUpdateLevel') AS nvarchar(128)) AS product_update_level,
    CAST(SERVERPROPERTY('Edition') AS nvarchar(128)) AS edition,
    CAST(SERVERPROPERTY('EngineEdition') AS int) AS engine_edition,
    COALESCE(CAST(SERVERPROPERTY('ServerName') AS nvarchar(256)), @@SERVERNAME) AS server_name,
    CAST(SERVERPROPERTY('IsIntegratedSecurityOnly') AS int) AS windows_auth_only,
    SUSER_SNAME() AS login_name,
    DB_NAME() AS database_name,
    IS_SRVROLEMEMBER('sysadmin') AS is_sysadmin,
    HAS_PERMS_BY_NAME(NULL, NULL, 'VIEW SERVER STATE') AS has_view_server_state,
    HAS_PERMS_BY_NAME(NULL, NULL, 'VIEW ANY DEFINITION') AS has_view_any_definition,
    SYSUTCDATETIME() AS now_utc;
