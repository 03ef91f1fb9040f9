"""Open data: figures, rankings, the periodic report, feeds and downloads (DESIGN §6)."""
