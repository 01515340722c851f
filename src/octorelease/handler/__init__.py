"""handler of octorelease."""
