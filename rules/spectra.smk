"""spectra stage (wired as the modules land)."""
