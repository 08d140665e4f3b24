"""Adding a target by the link a person books with: the config file edited one `[[target]]`
table at a time, every comment kept (config_file.py)."""
