"""octo's flags, each with what octorelease takes instead: an octo user's ``--deployTo`` gets
"octo's --deployTo is --to", not click's nearest spelling (``--deploy-at``).

The flags are those of the legacy ``octo`` CLI's promote-release, deploy-release and
create-release, with their deployment and connection options. Keys are octo's names lowercased
without dashes, as a user may type them (``--deployto``, ``--waitForDeployment``).
"""

from __future__ import annotations

from collections.abc import Sequence

#: octo's flag -> octorelease's equivalent, for every command; then those of one command.
_SAME: dict[str, str] = {
    "updatevariables": "is --update-variables",
    "forcepackagedownload": "is --force-package-download",
    "waitfordeployment": "is not needed: waiting is the default (--no-wait to not wait)",
    "progress": "is not needed: waiting and the task logs are the default (--log)",
    "deploymenttimeout": "is --timeout (90s, 10m, hh:mm:ss; the deployments are not stopped)",
    "cancelontimeout": "is --cancel-on-timeout",
    "deploymentchecksleepcycle": "is not taken: octorelease polls every task in one request, on its own schedule",
    "guidedfailure": "is --guided-failure (true/false as octo spells them)",
    "specificmachines": "is --machine (repeatable, or a comma list)",
    "excludemachines": "is --exclude-machine",
    "force": "is --force-redeploy",
    "norawlog": "is --no-log",
    "rawlogfile": "is not taken: the task log goes to stderr (redirect it, or --no-log)",
    "deployat": "is --deploy-at",
    "nodeployafter": "is --no-deploy-after",
    "tenanttag": "is --tenant-tag",
    "apikey": "is --api-key (or OCTOPUS_API_KEY)",
    "user": "is not taken: use an API key (--api-key)",
    "pass": "is not taken: use an API key (--api-key)",
    "configfile": "is not taken: give flags, variables (OCTOPUS_URL, ...) or a handler file",
    "debug": "is -v (retries) or -vv (every request)",
    "ignoresslerrors": "is --insecure (or --ca-bundle FILE to trust your CA)",
    "enableservicemessages": "is not needed: CI output is written when a CI is found (TeamCity too)",
    "proxy": "is not taken: set HTTPS_PROXY",
    "proxyuser": "is not taken: put the user in HTTPS_PROXY",
    "proxypass": "is not taken: put the password in HTTPS_PROXY",
    "whatif": "is --dry-run",
}
_BY_COMMAND: dict[str, dict[str, str]] = {
    "promote": {
        "deployto": "is --to", "releasenumber": "is --release", "version": "is --release",
        "latestsuccessful": "is not needed: the latest successful release is the default (--release pins one)",
    },
    "deploy": {"deployto": "is --to", "releasenumber": "is --release (a version, or latest)",
               "version": "is --release"},
    "create": {
        "deployto": "is --deploy-to", "releasenumber": "is --version",
        "defaultpackageversion": "is --default-package-version",
        "packageversion": "is --default-package-version",
        "packagesfolder": "is not taken: give versions with --package STEP:VERSION or --default-package-version",
        "packageprerelease": "is not taken: give versions with --package STEP:VERSION",
        "releasenotes": "is --notes",
        "releasenotesfile": "is --notes-file",
        "ignoreexisting": "is --ignore-existing",
        "ignorechannelrules": "is not taken: the channel's rules always apply",
        "gitref": "is not taken",
        "gitcommit": "is not taken",
    },
}


def octo_equivalent(option: str, args: Sequence[str]) -> str | None:
    """``octo's --deployTo is --to`` for an octo flag this command does not know, else None.
    ``args`` is the command line, to tell promote's ``--deployTo`` from create's."""
    key = option.lstrip("-").replace("-", "").lower()
    command = next((arg for arg in args if arg in _BY_COMMAND), None)
    said = _BY_COMMAND.get(command or "", {}).get(key) or _SAME.get(key)
    return f"octo's {option} {said}" if said else None
