-- MariaDB 10.4+: accounts live in mysql.global_priv as JSON (mysql.user is a view over
-- it). No hash leaves the server: only whether it is empty. "access" is the global
-- privilege bitmask (0 = USAGE only). Roles are rows with is_role = true.
-- Needs SELECT ON mysql.global_priv.
SELECT User, Host,
       COALESCE(JSON_VALUE(Priv, '$.plugin'), '') AS plugin,
       COALESCE(JSON_VALUE(Priv, '$.authentication_string'), '') = '' AS empty_auth,
       COALESCE(JSON_VALUE(Priv, '$.access'), '0') <> '0' AS global_privs,
       -- account_locked is stored as true or as 1 depending on how it was set.
       COALESCE(JSON_VALUE(Priv, '$.account_locked'), 'false') IN ('true', '1') AS locked,
       COALESCE(JSON_VALUE(Priv, '$.is_role'), 'false') IN ('true', '1') AS is_role
FROM mysql.global_priv
