"""check: one check of one target, its slots diffed against what was known, recorded."""
