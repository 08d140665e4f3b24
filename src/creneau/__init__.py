"""creneau: a polite watcher of French préfecture booking pages. It alerts; it never books."""

__version__ = "0.1.0"
PROJECT_URL = "https://github.com/creneau/creneau"
