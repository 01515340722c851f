"""The sandbox's HTTP side, thin (moto's split): bind a request, call one rule, shape Octopus's JSON."""
