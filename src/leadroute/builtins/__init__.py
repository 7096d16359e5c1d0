"""Built-in behaviour, implemented as ordinary plugins through the public hooks."""
