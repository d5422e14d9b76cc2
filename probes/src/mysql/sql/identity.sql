-- Who and what we are talking to; runs before the flavor is known, so only SQL
-- every MySQL (5.5+) and MariaDB accepts.
-- version(): "8.0.36", "8.0.36-28" (Percona), "10.11.6-MariaDB-0+deb12u1",
--            "5.5.5-10.11.6-MariaDB" (MariaDB < 11 behind some proxies/replication).
-- @@version_comment tells Percona ("Percona Server (GPL), ...") from MySQL.
-- CURRENT_USER() is the account the server matched ('perfdiag@%'), used in GRANT hints.
SELECT version(), @@version_comment, CONNECTION_ID(), CURRENT_USER(), NOW(6)
