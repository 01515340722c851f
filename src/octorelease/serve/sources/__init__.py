"""One module per CI that can send build events to ``octorelease serve``; see ``base.py``."""
