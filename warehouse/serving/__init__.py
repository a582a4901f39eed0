"""What the cockpit reads: the marts published as an immutable DuckDB snapshot, swapped in
atomically, and the read API that opens it."""
