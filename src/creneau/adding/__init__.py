"""Adding a target by the link a person books with: which system serves it, its settings,
a name and what its page offers (links.py, asking each system's folder), and the config file
edited one `[[target]]` table at a time, every comment kept (config_file.py)."""
