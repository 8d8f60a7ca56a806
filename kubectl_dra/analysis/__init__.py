"""Analysis: pure functions over a Snapshot that build result objects (no I/O)."""
