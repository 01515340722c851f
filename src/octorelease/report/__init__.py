"""report of octorelease."""
