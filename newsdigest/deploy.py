"""Publish output/ to the gh-pages branch: build, commit the folder with git plumbing, push.

The commit is made without touching the working tree or the index: output/ is
added to a temporary index, written as a tree, and committed on top of the
branch, with `.nojekyll` and, when `deploy.cname` is set, `CNAME`. Deploying
refuses while content is uncommitted (the site would not match any commit) and
when the build reports errors. While git reads output/ the writer's lock is held
(any move a killed build left pending finished first), so no build moves files
in meanwhile and a half-moved site is never published.
"""

from __future__ import annotations

import logging
import os
import subprocess
import tempfile
from pathlib import Path

from .build import build_site
from .config import Config
from .errors import NewsdigestError
from .writer import settled

log = logging.getLogger(__name__)

SOURCES = ("content", "config.yaml", "templates", "site")


class DeployError(NewsdigestError):
    """The site cannot be published (dirty tree, failed build, git refused)."""


def deploy(site_dir: Path, config: Config, force: bool = False, push: bool = True) -> int:
    """Build the published site and commit output/ to the deploy branch (and push it); 0 on success."""
    settings = config.deploy
    _git(site_dir, "rev-parse", "--show-toplevel", what="find the git repository",
         hint="deploy publishes from a git checkout of the site")
    dirty = _git(site_dir, "status", "--porcelain", "--untracked-files=all", "--", *SOURCES).splitlines()
    if dirty and not force:
        paths = ", ".join(line[2:].strip() for line in dirty[:3])
        paths += f" and {len(dirty) - 3} more" if len(dirty) > 3 else ""
        raise DeployError(f"uncommitted changes in {paths}; the published site would match no commit",
                          hint="commit them first, or pass --force")
    report = build_site(site_dir, config)
    for error in report.errors:
        log.error("%s", error)
    if report.errors:
        raise DeployError(f"the build had {len(report.errors)} error(s); nothing was deployed", str(site_dir))
    source = _git(site_dir, "rev-parse", "HEAD", check=False) or "(no commit yet)"
    message = f"Deploy {source[:12]} to {settings.branch}\n\nBuilt by newsdigest from commit {source}" + (
        " with uncommitted changes (--force)" if dirty else "") + ".\n"
    if push:  # build on top of what the remote already has, so the push is a fast-forward
        _git(site_dir, "fetch", "--quiet", settings.remote,
             f"+refs/heads/{settings.branch}:refs/remotes/{settings.remote}/{settings.branch}", check=False)
    with settled(site_dir / "output"):  # no build may move files in while git reads the folder
        commit = commit_folder(site_dir, site_dir / "output", settings.branch, message, settings.cname,
                               fallback=f"refs/remotes/{settings.remote}/{settings.branch}")
    if push:
        _git(site_dir, "push", "--quiet", settings.remote, f"refs/heads/{settings.branch}:refs/heads/{settings.branch}",
             what=f"push {settings.branch} to {settings.remote}",
             hint=f"pull {settings.branch} from {settings.remote} if it moved, or deploy with --no-push")
    log.info("deploy: %s %s %s%s", settings.branch, "is already" if commit is None else "now at",
             commit[:12] if commit else "up to date", f", pushed to {settings.remote}" if push else " (not pushed)")
    return 0


def commit_folder(site_dir: Path, folder: Path, branch: str, message: str, cname: str = "",
                  fallback: str | None = None) -> str | None:
    """Commit `folder` as the whole tree of `branch`; return the new commit, or None if nothing changed."""
    git_dir = _git(site_dir, "rev-parse", "--absolute-git-dir")
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "GIT_INDEX_FILE": str(Path(tmp) / "index"), "GIT_DIR": git_dir,
               "GIT_WORK_TREE": str(folder.resolve())}
        _git(folder, "add", "--all", "--force", ".", env=env, what="add output/ to the commit")
        extras = {".nojekyll": ""} | ({"CNAME": cname.strip() + "\n"} if cname.strip() else {})
        for name, text in extras.items():
            blob = _git(folder, "hash-object", "-w", "--stdin", env=env, stdin=text)
            _git(folder, "update-index", "--add", "--cacheinfo", f"100644,{blob},{name}", env=env)
        tree = _git(folder, "write-tree", env=env)
    local = _revision(site_dir, f"refs/heads/{branch}")
    parent = local or (_revision(site_dir, fallback) if fallback else "")
    if parent and _git(site_dir, "rev-parse", f"{parent}^{{tree}}") == tree:
        if not local:
            _git(site_dir, "update-ref", f"refs/heads/{branch}", parent, "0" * 40)
        return None
    commit = _git(site_dir, "commit-tree", tree, *(["-p", parent] if parent else []), "-m", message,
                  what="commit the site", hint="set git's user.name and user.email")
    _git(site_dir, "update-ref", "-m", "newsdigest deploy", f"refs/heads/{branch}", commit, local or "0" * 40)
    return commit


def _revision(cwd: Path, ref: str) -> str:
    """The commit `ref` names, or '' when there is none."""
    return _git(cwd, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}", check=False)


def _git(cwd: Path, *args: str, check: bool = True, env: dict | None = None, stdin: str | None = None,
         what: str = "", hint: str | None = None) -> str:
    """Run git in `cwd`; its stripped output, or a DeployError naming what failed."""
    try:
        result = subprocess.run(["git", *args], cwd=cwd, env=env, input=stdin, capture_output=True,
                                text=True, check=False)
    except FileNotFoundError as exc:
        raise DeployError("git is not installed", hint="install git to deploy") from exc
    if result.returncode != 0 and check:
        detail = (result.stderr.strip().splitlines() or ["no message"])[-1]
        raise DeployError(f"cannot {what or 'run git ' + args[0]}: {detail}", str(cwd), hint=hint)
    return result.stdout.strip() if result.returncode == 0 else ""
