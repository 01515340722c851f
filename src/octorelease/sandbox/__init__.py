"""The sandbox: an Octopus-compatible HTTP server backed by SQLite.

How it is built (moto's split); imports point down only, ``http/`` -> ``estate/`` -> ``rules/`` -> ``state/``::

    http/        the HTTP side, thin: bind a request, call one rule, shape Octopus's JSON
      server.py      where it listens: SandboxServer (a thread, for tests and the demo), serve (Ctrl-C)
      service.py     one sandbox wired together: store, models, runner, API key, request log, reset
      urls.py        the routing table, and nothing else: which path and verb reach which handler
      api/           the /api handlers, one module per resource (context.py: what each stands on;
                     editing.py: create, modify, delete and package upload)
      control.py     the /_sandbox test controls (documented in estate/seed.py)
      middleware.py  method override, request log, HTTP faults, API keys, Octopus's error envelope
      routing.py     routes whose words match in any letter case, as Octopus's do
      faults.py      --faults SPEC: its grammar, its parser, and which request gets which fault
      binding.py     case-insensitive JSON, .NET booleans, CSV lists
      resources.py   Octopus's JSON for each resource, Links built from the request's base path
    estate/      estates, made real and written back
      file.py        the estate file (--seed FILE): its schema, loading, and checks with file:line
      seed.py        an estate made real (the demo is demo.yml, one such file); test controls' reference
      seed_large.py  the large estate: the demo plus thousands of environments, machines, releases (--seed large)
      export.py      --export: the estate a database holds, written back as an estate file
    rules/       the behaviour, no HTTP
      models.py      the rules, one method per operation (deploying.py, releasing.py, variables.py,
                     editing.py, lifecycle.py, views.py, versions.py hold the larger ones)
      requests.py    what callers ask the models for, as plain data
      runner.py      carries out deployment tasks: steps x machines, logs, cancel, faults
      interrupting.py  interruptions: raised by a manual step or guided failure, answered by a team
    state/       what the sandbox holds
      entities.py    one class per Octopus resource (pydantic), with no rules and no HTTP
      state.py       entities in memory, written through to store.py (SQLite, one JSON document each)
    errors.py    what the rules refuse, with Octopus's wording and status

What it does not emulate (a real Octopus does): automatic deployments on phase entry, retention,
channel version rules,
tenant tags, target tags (``SpecificTargetTagIds``), priority, Git resources,
runbooks, workers, worker pools, tag sets, accounts, certificates, action templates, proxies and
subscriptions (their collections answer empty), health checks (every target is Healthy unless
disabled), a step's child actions, environment sort order, delta package uploads, variable
scoping when values are resolved, release defects, users and permissions beyond "this key may
deploy only to these environments, and is in these teams".
"""
