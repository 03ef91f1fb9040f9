"""Reference data, the region directory and demo data."""
