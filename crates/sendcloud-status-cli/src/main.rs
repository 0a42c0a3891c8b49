//! The `sendcloud-status` command (being built).

fn main() {}
