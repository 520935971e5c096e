"""The ``hegui`` command line."""
