"""The sandbox's routing table, and nothing else (moto's ``urls.py``): which path and verb reach
which handler of ``api/`` or ``control.py``.

Each space-scoped route answers at ``/api/{spaceId}/...``, at ``/api/...`` (the default space) and
at ``/api/spaces/{spaceId}/...``, except the few the reference documents only under a space (the
executions API's deployments); task routes without a space see every space. Order matters where
two routes could match: ``/all`` comes before ``/{id}``, so that "all" is never taken for an id.
The test controls (``/_sandbox``) match their words exactly; the ``/api`` routes ignore letter
case, as Octopus's do (``routing.py``).
"""

from __future__ import annotations

from starlette import routing as starlette_routing
from starlette.routing import BaseRoute

from octorelease.sandbox.http import control
from octorelease.sandbox.http.api import (
    channels,
    deployments,
    editing,
    feeds,
    infrastructure,
    lifecycles,
    projects,
    releases,
    system,
    tasks,
    tenants,
    unemulated,
    variables,
)
from octorelease.sandbox.http.api.collections import wrapped_all
from octorelease.sandbox.http.routing import Mount, Route

CONTROL_ROUTES: list[BaseRoute] = [
    starlette_routing.Route("/_sandbox/reset", control.reset, methods=["POST"]),
    starlette_routing.Route("/_sandbox/faults", control.faults, methods=["POST", "DELETE"]),
    starlette_routing.Route("/_sandbox/faults/http", control.http_faults, methods=["POST", "DELETE"]),
    starlette_routing.Route("/_sandbox/speed", control.speed, methods=["POST"]),
    starlette_routing.Route("/_sandbox/api-keys", control.api_keys, methods=["POST"]),
    starlette_routing.Route("/_sandbox/packages", control.packages, methods=["POST"]),
    starlette_routing.Route("/_sandbox/rename", control.rename, methods=["POST"]),
    starlette_routing.Route("/_sandbox/requests", control.requests, methods=["GET", "DELETE"]),
    starlette_routing.Route("/_sandbox/census", control.census, methods=["GET"]),
]

# create, modify and delete (rules/editing.py)
EDITING_ROUTES: list[BaseRoute] = [
    Route("/environments", editing.create_environment, methods=["POST"]),
    Route("/environments/{id}", editing.modify_environment, methods=["PUT"]),
    Route("/environments/{id}", editing.delete_environment, methods=["DELETE"]),
    Route("/machines", editing.create_machine, methods=["POST"]),
    Route("/machines/{id}", editing.modify_machine, methods=["PUT"]),
    Route("/machines/{id}", editing.delete_machine, methods=["DELETE"]),
    Route("/projectgroups", editing.create_project_group, methods=["POST"]),
    Route("/projectgroups/{id}", editing.modify_project_group, methods=["PUT"]),
    Route("/projectgroups/{id}", editing.delete_project_group, methods=["DELETE"]),
    Route("/projects", editing.create_project, methods=["POST"]),
    Route("/projects/{ref}", editing.modify_project, methods=["PUT"]),
    Route("/projects/{ref}", editing.delete_project, methods=["DELETE"]),
    Route("/projects/{ref}/deploymentprocesses", editing.save_deployment_process, methods=["PUT"]),
    Route("/deploymentprocesses/{ref}", editing.save_deployment_process, methods=["PUT"]),
    Route("/channels", editing.create_channel, methods=["POST"]),
    Route("/channels/{id}", editing.modify_channel, methods=["PUT"]),
    Route("/channels/{id}", editing.delete_channel, methods=["DELETE"]),
    Route("/tenants", editing.create_tenant, methods=["POST"]),
    Route("/tenants/{id}", editing.modify_tenant, methods=["PUT"]),
    Route("/tenants/{id}", editing.delete_tenant, methods=["DELETE"]),
    Route("/packages/raw", editing.upload_package, methods=["POST"]),
]

SPACE_ROUTES: list[BaseRoute] = [
    *EDITING_ROUTES,
    Route("/projects", projects.projects),
    Route("/projects/all", projects.all_projects),
    Route("/projects/{ref}", projects.project),
    Route("/projects/{ref}/runbooks", projects.project_runbooks),
    Route("/projects/{ref}/runbooks/all/v2", projects.project_runbooks_v2),
    Route("/projects/{ref}/deploymentsettings", projects.project_deployment_settings),
    Route("/projects/{ref}/deploymentsettings", editing.modify_deployment_settings, methods=["PUT"]),
    Route("/projects/{ref}/progression", projects.project_progression),
    Route("/projects/{ref}/triggers", projects.project_triggers),
    Route("/projects/{ref}/logo", projects.project_logo),
    Route("/projects/{ref}/channels/{id}", channels.project_channel),
    Route("/projects/{ref}/channels/{id}/releases", channels.project_channel_releases),
    Route("/projects/{ref}/releases", releases.project_releases),
    Route("/projects/{ref}/releases/{version}", releases.project_release),
    Route("/projects/{ref}/channels", channels.project_channels),
    Route("/projects/{ref}/deploymentprocesses", projects.deployment_process),
    Route("/projects/{project}/deploymentprocesses/template", projects.release_template),
    Route("/projects/{ref}/variables", variables.project_variables, methods=["GET", "PUT"]),
    Route("/projectgroups", projects.project_groups),
    Route("/projectgroups/all", projects.all_project_groups),
    Route("/projectgroups/{id}", projects.project_group),
    Route("/projectgroups/{id}/projects", projects.project_group_projects),
    Route("/deploymentprocesses", projects.deployment_processes),
    Route("/deploymentprocesses/{ref}", projects.deployment_process),
    Route("/deploymentprocesses/{ref}/template", projects.release_template),
    Route("/environments/all/v1", wrapped_all(infrastructure.ENVIRONMENTS, "Environments")),
    Route("/environments/v2", infrastructure.environments_v2),
    *infrastructure.ENVIRONMENTS.routes("/environments"),
    Route("/environments/{id}/machines", infrastructure.environment_machines),
    Route("/machines/operatingsystem/names/all", infrastructure.operating_systems),
    Route("/machines/operatingsystem/shells/all", infrastructure.shells),
    Route("/workers/operatingsystem/names/all", unemulated.no_strings),
    Route("/workers/operatingsystem/shells/all", unemulated.no_strings),
    *infrastructure.MACHINES.routes("/machines"),
    Route("/machines/{id}/connection", infrastructure.machine_connection),
    Route("/machines/{id}/tasks", infrastructure.machine_tasks),
    Route("/machineroles/all", infrastructure.machine_roles),
    *lifecycles.LIFECYCLES.routes("/lifecycles"),
    Route("/lifecycles", lifecycles.save_lifecycle, methods=["POST"]),
    Route("/lifecycles/{id}", lifecycles.save_lifecycle, methods=["PUT"]),
    Route("/lifecycles/{id}/preview", lifecycles.lifecycle_preview),
    Route("/lifecycles/{id}/projects", lifecycles.lifecycle_projects),
    *channels.CHANNELS.routes("/channels"),
    Route("/channels/{id}/releases", channels.channel_releases),
    *tenants.TENANTS.routes("/tenants"),
    Route("/tenants/{id}/variables", tenants.tenant_variables),
    Route("/tenantvariables/all", tenants.all_tenant_variables),
    *feeds.FEEDS.routes("/feeds"),
    Route("/feeds/{id}/packages/search", feeds.package_search),
    *unemulated.ARTIFACTS.routes("/artifacts", with_all=False),
    *unemulated.INTERRUPTIONS.routes("/interruptions", with_all=False),
    Route("/libraryvariablesets/all/v1", wrapped_all(variables.LIBRARY_VARIABLE_SETS, "LibraryVariableSets")),
    *variables.LIBRARY_VARIABLE_SETS.routes("/libraryvariablesets"),
    Route("/libraryvariablesets", variables.create_library_variable_set, methods=["POST"]),
    Route("/libraryvariablesets/{id}", variables.update_library_variable_set, methods=["PUT"]),
    *tenants.TAG_SETS.routes("/tagsets"),
    *unemulated.ACCOUNTS.routes("/accounts"),
    *unemulated.ACTION_TEMPLATES.routes("/actiontemplates"),
    *unemulated.PROXIES.routes("/proxies"),
    *unemulated.CERTIFICATES.routes("/certificates"),
    *unemulated.SUBSCRIPTIONS.routes("/subscriptions"),
    *unemulated.RUNBOOKS.routes("/runbooks"),
    *unemulated.RUNBOOK_PROCESSES.routes("/runbookProcesses"),
    *unemulated.RUNBOOK_SNAPSHOTS.routes("/runbookSnapshots"),
    *unemulated.RUNBOOK_RUNS.routes("/runbookRuns"),
    *unemulated.WORKER_POOLS.routes("/workerpools"),
    *unemulated.WORKERS.routes("/workers"),
    Route("/feeds/{id}/packages/versions", feeds.package_versions),
    Route("/variables", variables.variable_sets),
    Route("/variables/all", variables.variable_sets),
    Route("/variables/{id}", variables.variable_set, methods=["GET", "PUT"]),
    Route("/releases", releases.releases),
    Route("/releases", releases.create_release, methods=["POST"]),
    Route("/releases/create/v1", releases.create_release_v1, methods=["POST"]),
    Route("/releases/{id}", releases.release),
    Route("/releases/{id}/snapshot-variables", releases.snapshot_variables, methods=["POST"]),
    Route("/releases/{id}/deployments", releases.release_deployments),
    Route("/releases/{id}/deployments/template", releases.deployment_template),
    Route("/releases/{id}/deployments/preview/{env}", releases.deployment_preview),
    Route("/releases/{id}/deployments/preview/{env}/{tenant}", releases.deployment_preview),
    Route("/releases/{id}/deployments/previews", releases.deployment_previews, methods=["POST"]),
    Route("/releases/{id}/progression", releases.release_progression),
    Route("/releases/{id}/defects", releases.release_defects),
    Route("/deployments", deployments.deployments),
    Route("/deployments", deployments.create_deployment, methods=["POST"]),
    Route("/deployments/{id}", deployments.deployment),
    Route("/dashboard/dynamic", deployments.dashboard),
    Route("/dashboard", deployments.dashboard),
    Route("/tasks", tasks.tasks),
    Route("/tasks/{id}", tasks.task),
    Route("/tasks/{id}/details", tasks.task_details),
    Route("/tasks/{id}/raw", tasks.task_raw),
    Route("/tasks/{id}/queued-behind", tasks.queued_behind),
    Route("/tasks/{id}/cancel", tasks.cancel_task, methods=["POST"]),
]

#: routes the reference documents only under a space (``/api/{spaceId}/...`` and
#: ``/api/spaces/{spaceIdentifier}/...``), with no unscoped ``/api/...`` alias
SPACED_ONLY_ROUTES: list[BaseRoute] = [
    Route("/deployments/create/untenanted/v1", deployments.create_untenanted_v1, methods=["POST"]),
    Route("/deployments/create/tenanted/v1", deployments.create_tenanted_v1, methods=["POST"]),
    Route("/releases/{id}/missingpackages", releases.missing_packages),
]

ROUTES: list[BaseRoute] = [
    Route("/api", system.api_root),
    Route("/api/", system.api_root),
    Route("/api/spaces", system.spaces),
    Route("/api/spaces/all", system.all_spaces),
    Route("/api/spaces/{id}", system.space),
    Route("/api/users", system.users),
    Route("/api/users/all", system.all_users),
    Route("/api/users/me", system.current_user),
    Route("/api/users/{id}", system.user),
    Route("/api/users/{id}/spaces", system.user_spaces),
    Route("/api/users/{id}/apikeys", system.user_api_keys),
    Route("/api/users/{id}/apikeys/{key}", system.user_api_key),
    Route("/api/users/{id}/permissions", system.user_permissions),
    Route("/api/configuration/feature-toggles", system.feature_toggles),
    Route("/api/{space_id:space}", system.space_root),
    Mount("/api/spaces/{space_id:space}", routes=SPACED_ONLY_ROUTES + SPACE_ROUTES),
    Mount("/api/{space_id:space}", routes=SPACED_ONLY_ROUTES + SPACE_ROUTES),
    Mount("/api", routes=SPACE_ROUTES),
]
