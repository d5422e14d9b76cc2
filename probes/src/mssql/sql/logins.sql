-- Logins with what the security checks need. A login sees only itself, sa and the
-- fixed roles unless it has VIEW ANY DEFINITION (or ALTER ANY LOGIN): the probe says
-- so instead of reporting "no other sysadmin". sa is principal_id 1 whatever its name.
SELECT
    sp.principal_id,
    sp.name,
    sp.type_desc,
    sp.is_disabled,
    sl.is_policy_checked,
    sl.is_expiration_checked,
    CASE WHEN EXISTS (
        SELECT 1
        FROM sys.server_role_members AS rm
        JOIN sys.server_principals AS r ON r.principal_id = rm.role_principal_id
        WHERE r.name = 'sysadmin' AND rm.member_principal_id = sp.principal_id
    ) THEN 1 ELSE 0 END AS is_sysadmin
FROM sys.server_principals AS sp
LEFT JOIN sys.sql_logins AS sl ON sl.principal_id = sp.principal_id
WHERE sp.type IN ('S', 'U', 'G', 'E', 'X')
ORDER BY sp.principal_id;
