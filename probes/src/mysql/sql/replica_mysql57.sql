-- MySQL 5.7 and 8.0 before 8.0.22: Master_Host, Slave_IO_Running,
-- Seconds_Behind_Master, Channel_Name (5.7.6+). Needs REPLICATION CLIENT.
SHOW SLAVE STATUS
