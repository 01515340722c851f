"""Estates: the estate file (``--seed FILE``), seeding one (the demo, the large seed) and exporting one."""
