-- Run once after login. SQL Server has no server-side statement timeout: the client
-- bounds every query (tiberius' command timeout and our own guard). These make the
-- probe's session harmless: it never waits long on a lock, never takes shared locks
-- on user data (DMVs read under READ UNCOMMITTED), and is the preferred deadlock victim.
SET NOCOUNT ON;
SET LOCK_TIMEOUT {lock_timeout_ms};
SET TRANSACTION ISOLATION LEVEL READ UNCOMMITTED;
SET DEADLOCK_PRIORITY LOW;
