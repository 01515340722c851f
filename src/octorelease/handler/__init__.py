"""Build event handlers: which handlers a build event triggers, and running their actions.

- ``file``: the handler file (``octorelease.yml``): load, ``${ENV}``, validation with file:line errors.
- ``events``: ContinuaCI's build events and statuses, and the spellings accepted for them.
- ``build_values``: the ``{build.*}`` values from the CI's environment and ``--var``.
- ``conditions``: handler conditions, parsed and compared without ``eval``.
- ``select``: a decision and a reason for every handler, in run order.
- ``variables``: project variables set before a handler's actions.
- ``run``: runs the selected handlers' actions through ``octorelease.client.Octopus``.
"""
