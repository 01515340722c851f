"""The sandbox's behaviour: Octopus's rules, one method per operation, with no HTTP in sight."""
