"""The raw baseline's versioned SQL migrations (one file per revision, direction and dialect) and their runner."""
