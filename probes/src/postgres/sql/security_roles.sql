-- Superusers and login roles whose password never expires. pg_roles is readable by
-- any role (rolpassword always reads '********', so password presence and hash type
-- are not visible without superuser: they are not collected).
SELECT rolname::text, rolsuper, rolcanlogin, rolvaliduntil IS NULL AS no_expiry
FROM pg_roles
WHERE rolsuper OR rolcanlogin
ORDER BY rolname
