"""Publishing to gh-pages, against a local bare repository standing in for GitHub."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from conftest import article, write

from newsdigest.cli import main
from newsdigest.config import BASE_URL_ENV, load_config
from newsdigest.deploy import DeployError, deploy
from newsdigest.errors import ConfigError


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


def init_repo(path: Path, remote: Path) -> None:
    git(path, "init", "-q", "-b", "main")
    git(path, "config", "user.name", "Editor")
    git(path, "config", "user.email", "editor@example.org")
    git(path, "remote", "add", "origin", str(remote))


@pytest.fixture
def remote(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("remote") / "site.git"
    git(path.parent, "init", "-q", "--bare", path.name)
    return path


@pytest.fixture
def repo(site: Path, remote: Path) -> Path:
    """The tiny site as a committed git checkout whose origin is the bare remote."""
    article(site, "2024/01/15/hello.md", "Hello world", "2024-01-15T09:00:00+00:00", thread="greetings",
            entities={"person": ["Ann Smith"]})
    write(site / ".gitignore", "output/\n.output.*\n.cache/\n")
    init_repo(site, remote)
    git(site, "add", ".")
    git(site, "commit", "-q", "-m", "Content")
    return site


def files_on(repo: Path, ref: str) -> set[str]:
    return set(git(repo, "ls-tree", "-r", "--name-only", ref).splitlines())


def test_deploy_publishes_output_to_gh_pages_on_the_remote(repo, remote):
    head = git(repo, "rev-parse", "HEAD")
    assert deploy(repo, load_config(repo)) == 0
    published = files_on(remote, "gh-pages")
    assert {"index.html", ".nojekyll", "feed.xml", "2024/01/15/hello/index.html"} <= published
    assert "CNAME" not in published
    assert head in git(remote, "log", "-1", "--format=%B", "gh-pages")
    assert git(repo, "status", "--porcelain") == "" and git(repo, "branch", "--show-current") == "main"
    assert git(repo, "rev-parse", "HEAD") == head  # the source branch is untouched


def test_cname_is_written_when_configured(repo, remote):
    write(repo / "config.yaml", (repo / "config.yaml").read_text() + "deploy: {cname: news.example.org}\n")
    git(repo, "commit", "-q", "-am", "Custom domain")
    assert deploy(repo, load_config(repo)) == 0
    assert git(remote, "show", "gh-pages:CNAME") == "news.example.org"


def test_uncommitted_content_is_refused_unless_forced(repo, remote):
    article(repo, "2024/01/15/hello.md", "Hello edited", "2024-01-15T09:00:00+00:00", thread="greetings")
    write(repo / "content" / "wire" / "new.txt", "Headline\n\nLONDON (Reuters) - Text.\n")
    with pytest.raises(DeployError, match=r"uncommitted changes in content/articles/2024/01/15/hello.md, "
                                          r"content/wire/new.txt.*--force"):
        deploy(repo, load_config(repo))
    assert git(remote, "branch", "--list") == ""
    assert deploy(repo, load_config(repo), force=True) == 0
    assert "--force" in git(remote, "log", "-1", "--format=%B", "gh-pages")
    assert "Hello edited" in git(remote, "show", "gh-pages:2024/01/15/hello/index.html")


def test_changes_outside_the_sources_do_not_block(repo):
    write(repo / "notes.txt", "scratch\n")
    assert deploy(repo, load_config(repo), push=False) == 0


def test_build_errors_are_refused(repo, remote):
    write(repo / "content" / "articles" / "2024" / "01" / "16" / "bad.md", "---\ntitle: [unclosed\n---\nBody\n")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "Bad article")
    with pytest.raises(DeployError, match=r"the build had 1 error\(s\); nothing was deployed"):
        deploy(repo, load_config(repo))
    assert git(remote, "branch", "--list") == ""


def test_no_push_commits_the_branch_only(repo, remote):
    assert deploy(repo, load_config(repo), push=False) == 0
    assert "index.html" in files_on(repo, "gh-pages")
    assert git(remote, "branch", "--list") == ""


def test_redeploy_adds_one_commit_per_change_and_none_without(repo, remote):
    deploy(repo, load_config(repo))
    first = git(remote, "rev-parse", "gh-pages")
    deploy(repo, load_config(repo))
    assert git(remote, "rev-parse", "gh-pages") == first  # same site: nothing to commit
    article(repo, "2024/01/16/more.md", "More news", "2024-01-16T09:00:00+00:00", thread="greetings")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "More")
    deploy(repo, load_config(repo))
    assert git(remote, "rev-parse", "gh-pages^") == first
    assert "2024/01/16/more/index.html" in files_on(remote, "gh-pages")


def test_a_fresh_clone_deploys_on_top_of_the_remote_branch(repo, remote, tmp_path_factory):
    deploy(repo, load_config(repo))
    first = git(remote, "rev-parse", "gh-pages")
    clone = tmp_path_factory.mktemp("clone") / "site"
    git(clone.parent, "clone", "-q", str(remote), clone.name)
    git(clone, "config", "user.name", "Other")
    git(clone, "config", "user.email", "other@example.org")
    article(clone, "2024/01/17/late.md", "Late news", "2024-01-17T09:00:00+00:00", thread="greetings")
    git(clone, "add", ".")
    git(clone, "commit", "-q", "-m", "Late")
    assert deploy(clone, load_config(clone)) == 0
    assert git(remote, "rev-parse", "gh-pages^") == first


def test_cli_reports_one_line_and_fails(repo, capsys):
    write(repo / "config.yaml", (repo / "config.yaml").read_text() + "per_page: 5\n")
    assert main(["deploy", "--site", str(repo)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: uncommitted changes in config.yaml")


def test_outside_a_git_repository_is_a_clear_error(site, tmp_path, monkeypatch):
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))
    with pytest.raises(DeployError, match="cannot find the git repository"):
        deploy(site, load_config(site))


def test_base_url_can_come_from_the_environment(site, monkeypatch):
    monkeypatch.setenv(BASE_URL_ENV, "https://someone.github.io/digest")
    config = load_config(site)
    assert config.base_url == "https://someone.github.io/digest" and config.base_path == "/digest/"
    monkeypatch.setenv(BASE_URL_ENV, "not a url")
    with pytest.raises(ConfigError, match=BASE_URL_ENV):
        load_config(site)
    monkeypatch.setenv(BASE_URL_ENV, "")
    assert load_config(site).base_url == "https://user.github.io/repo/"
