-- MariaDB before 10.4: mysql.user is a table with both Password (native hashes) and
-- authentication_string (plugins). No account locking before 10.4.
SELECT User, Host, plugin,
       Password = '' AND authentication_string = '' AS empty_auth,
       'Y' IN (Select_priv, Insert_priv, Update_priv, Delete_priv, Create_priv, Drop_priv,
               Reload_priv, Shutdown_priv, Process_priv, File_priv, Grant_priv, Super_priv,
               Alter_priv, Index_priv, Execute_priv, Create_user_priv) AS global_privs,
       0 AS locked,
       is_role = 'Y' AS is_role
FROM mysql.user
