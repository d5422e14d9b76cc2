-- Whether PUBLIC (grantee 0) holds CREATE on schema public. A NULL nspacl means the
-- built-in default, which acldefault() spells out (PostgreSQL 15 made the public
-- schema owned by pg_database_owner with USAGE only for PUBLIC; older versions
-- granted CREATE to PUBLIC).
SELECT coalesce(bool_or(a.grantee = 0 AND a.privilege_type = 'CREATE'), false) AS public_create
FROM pg_namespace n,
     LATERAL aclexplode(coalesce(n.nspacl, acldefault('n', n.nspowner))) a
WHERE n.nspname = 'public'
