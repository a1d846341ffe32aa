//! MiniDNS driven for real: a server on a free loopback port over a
//! throwaway database, checked with `dig`, with the crate's own client, and
//! with a BIND secondary transferring from it.

mod bind;
mod common;
mod fuzz;
mod queries;
mod transfers;
