"""A config file as a person keeps it (comments, blank lines, a commented-out key), for the
tests that edit it and compare the result byte for byte."""

from __future__ import annotations


def commented_config(root: str, tail: str = "") -> str:
    """One ezbooking target on the simulator at `root`, then `tail` (e.g. a [web] table)."""
    return f"""\
# my creneau
[creneau]
database = "sqlite:///creneau.db"  # beside this file
contact = "tests@example.org"

[[notify]]
name = "phone"  # my phone
urls = ["json://127.0.0.1:9/"]

# Bobigny, never a slot
[[target]]
name = "bobigny"
system = "ezbooking"
url = "{root}/booking/create/1003"
every = "2s"  # the simulator is on loopback
# desks = ["16001"]

# the simulator may be asked often
[hosts."127.0.0.1"]
per_minute = 600
burst = 60
{tail}"""
