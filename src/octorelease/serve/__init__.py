"""``octorelease serve``: the server-side half of ContinuaCI's build event handler.

CI servers send build events here by webhook (``/hooks/<source>``); each accepted event is
stored before it is answered, a worker runs the matching handlers through the same code path
as ``octorelease run``, and a small web page shows the history.

Rooms: ``sources/`` (one module per CI: verify the sender, map the payload to a build event),
``store.py`` (the one interface to the database), ``worker.py`` (queue, per-project
serialisation, resume after a crash), ``app.py`` (routes) and ``pages/`` (the web page).
"""
