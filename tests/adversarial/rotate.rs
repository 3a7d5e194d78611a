//! Attack tests: see main.rs.
