"""actions of octorelease."""
