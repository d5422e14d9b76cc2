//! A throwaway PostgreSQL 15 instance (being built).
