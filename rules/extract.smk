"""extract stage (wired as the modules land)."""
