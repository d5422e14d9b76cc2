-- MySQL 8.0.22+: the new terminology (Source_Host, Replica_IO_Running,
-- Seconds_Behind_Source, Channel_Name). Needs REPLICATION CLIENT.
SHOW REPLICA STATUS
