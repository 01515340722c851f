"""The sandbox: an Octopus-compatible HTTP server backed by SQLite.

How it is built (moto's split)::

    server.py      where it listens: SandboxServer (a thread, for tests and the demo), serve (Ctrl-C)
    service.py     one sandbox wired together: store, models, runner, API key, request log, reset
    api.py         the /api routes, thin: parse, call one model method, shape the JSON
    estate_api.py  the create, modify and delete routes and package upload (rules: editing.py)
    routing.py     routes whose words match in any letter case, as Octopus's do
    control.py     the /_sandbox test controls (documented in seed.py)
    middleware.py  method override, request log, HTTP faults, API keys, Octopus's error envelope
    faults.py      --faults SPEC: its grammar, its parser, and which request gets which fault
    binding.py     case-insensitive JSON, .NET booleans, CSV lists
    resources.py   Octopus's JSON for each resource, Links built from the request's base path
    models.py      the rules, one method per operation (deploying.py, releasing.py, variables.py, editing.py,
                   lifecycle.py hold the larger ones); errors.py names what they refuse
    state.py       entities in memory, written through to store.py (SQLite, one JSON document each)
    runner.py      carries out deployment tasks: steps x machines, logs, cancel, faults
    estate.py      the estate file (--seed FILE): its schema, loading, and checks with file:line
    seed.py        an estate made real (the demo is demo.yml, one such file); test controls' reference
    export.py      --export: the estate a database holds, written back as an estate file

What it does not emulate (a real Octopus does): guided failure and manual interventions (a failed
step fails the task), automatic deployments on phase entry, retention, channel version rules,
tenant tags, target tags (``SpecificTargetTagIds``), deployment freezes, priority, Git resources,
runbooks, workers, worker pools, tag sets, accounts, certificates, action templates, proxies and
subscriptions (their collections answer empty), health checks (every target is Healthy unless
disabled), a step's child actions, environment sort order, delta package uploads, variable
scoping when values are resolved, release defects, users, teams and permissions beyond "this key
may deploy only to these environments".
"""
