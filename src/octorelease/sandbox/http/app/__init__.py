"""The sandbox's web pages at ``/app``: what the links octorelease prints open.

Octopus users think in its dashboard, and every deployment octorelease reports carries a link
into it (``/app#/Spaces-1/deployments/Deployments-6``). The sandbox answers those links with a
small UI of its own: the dashboard (projects by environments), a deployment's or task's page
with its log following live and any question it waits on, a release's page, and the sandbox's
own controls for rehearsals.

Server-rendered HTML (Jinja2, every value autoescaped, ``octorelease.pages``) plus one small
script (``static/app.js``) that routes the ``#/...`` part, which never reaches the server, to
each page's plain path, and swaps a page's ``<main>`` while something on it runs. No build step,
nothing fetched from elsewhere, a strict Content-Security-Policy. ``views.py`` reads the rules,
``pages.py`` renders and acts, ``access.py`` says who may look and who sees the controls;
the routes are in ``urls.py`` with every other.
"""
