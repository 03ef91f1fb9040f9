"""The deadline engine's database side: calendar table, policies, clocks, the public calculator."""
