"""fetch: the only door to the network, and the rules of politeness it applies."""
