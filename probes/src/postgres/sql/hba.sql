-- pg_hba.conf as the server parsed it (PostgreSQL 10+). Superuser only by default:
-- a pg_monitor role needs
--   GRANT SELECT ON pg_hba_file_rules TO <role>;
--   GRANT EXECUTE ON FUNCTION pg_hba_file_rules() TO <role>;
-- PostgreSQL 16 added rule_number and file_name (not read here).
SELECT line_number::int8, type::text AS conn_type, database::text[] AS databases,
       user_name::text[] AS users, address::text, netmask::text, auth_method::text,
       error::text
FROM pg_hba_file_rules
ORDER BY line_number
