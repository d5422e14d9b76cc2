-- MySQL 5.7.6+ and 8.x: no Password column any more; authentication_string holds the
-- hash for every plugin; account_locked exists since 5.7.6. MySQL 8 roles are locked
-- accounts without a password, so they are reported locked and not as empty passwords.
SELECT User, Host, plugin,
       COALESCE(authentication_string, '') = '' AS empty_auth,
       'Y' IN (Select_priv, Insert_priv, Update_priv, Delete_priv, Create_priv, Drop_priv,
               Reload_priv, Shutdown_priv, Process_priv, File_priv, Grant_priv, Super_priv,
               Alter_priv, Index_priv, Execute_priv, Create_user_priv) AS global_privs,
       account_locked = 'Y' AS locked,
       0 AS is_role
FROM mysql.user
