//! The SQL surface on a real engine, as one test binary (every test binary
//! links RocksDB, which a fresh CI machine pays for once per binary):
//! DDL (CHECK, ALTER TABLE, identity, unique indexes), the column types and
//! their text input, queries as PostgreSQL plans and evaluates them, and set
//! operations below the top of a statement with `WITH RECURSIVE`, keys
//! (composite PRIMARY KEY / UNIQUE, foreign-key ON DELETE actions), views
//! and sequences.

mod arrays;
mod ddl;
mod keys;
mod materialise;
mod objects;
mod pgexact;
mod queries;
mod types;
