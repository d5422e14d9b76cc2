-- All global variables, as text. Same statement on MySQL and MariaDB; no privilege.
SHOW GLOBAL VARIABLES
