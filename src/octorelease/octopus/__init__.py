"""The Octopus REST client: knows the wire, nothing of CI, actions or the sandbox."""
