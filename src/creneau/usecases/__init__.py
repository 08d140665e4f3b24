"""What the command line and the dashboard both do; neither holds logic of its own."""
