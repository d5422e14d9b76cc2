//! A throwaway MariaDB instance (being built).
