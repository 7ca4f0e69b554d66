"""``bin/run`` and ``bin/test`` as a newcomer meets them: their help, the admin's
password kept per database, and the styled error pages by default."""

import os
import subprocess

import httpx
import pytest
from django.core.management import call_command

from brain.access.management.commands.ensure_admin import admin_password_file
from tests.servers import ROOT, bin_run, free_port


def run(*args, env=None) -> subprocess.CompletedProcess:
    return subprocess.run(
        list(args), cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )


@pytest.mark.parametrize("script", ["bin/run", "bin/test"])
def test_help_prints_the_usage_and_does_nothing_else(script):
    for flag in ("--help", "-h"):
        result = run(script, flag)
        assert result.returncode == 0, result.stderr
        assert result.stdout.startswith(f"Usage: {script}")
        assert "DATABASE_URL" in result.stdout
        assert "==" not in result.stdout  # no set-up, lint or test ran


def test_bin_run_names_an_unknown_option():
    result = run("bin/run", "--simulte")
    assert result.returncode == 2
    assert "unknown option --simulte (bin/run --help)" in result.stderr
    assert run("bin/run", "--rate", "5").returncode == 2  # a rate without --simulate


def test_each_database_keeps_its_own_admin_password_file(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    embedded = {"ENGINE": "django.db.backends.sqlite3", "NAME": tmp_path / "db.sqlite3"}
    postgres = {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "brain",
        "HOST": "127.0.0.1",
        "PORT": 5432,
    }
    other = {**postgres, "NAME": "brain_staging"}
    files = {admin_password_file(db) for db in (embedded, postgres, other)}
    assert files == {
        tmp_path / "admin_password",
        tmp_path / "admin_password.postgresql-127.0.0.1-5432-brain",
        tmp_path / "admin_password.postgresql-127.0.0.1-5432-brain_staging",
    }


@pytest.mark.django_db
def test_ensure_admin_on_postgres_leaves_the_embedded_password_alone(
    settings, tmp_path, capsys
):
    settings.DATA_DIR = tmp_path
    embedded = tmp_path / "admin_password"
    embedded.write_text("the embedded admin's password\n")
    call_command("ensure_admin")
    printed = capsys.readouterr().out
    mine = admin_password_file()
    assert mine != embedded and mine.name.startswith("admin_password.postgresql-")
    assert f"password in {mine}" in printed
    assert embedded.read_text() == "the embedded admin's password\n"
    assert oct(mine.stat().st_mode & 0o777) == "0o600"
    password = mine.read_text().strip()
    call_command("ensure_admin")  # a second run keeps the first password
    assert mine.read_text().strip() == password


@pytest.mark.slow
def test_bin_run_serves_the_styled_pages_unless_debug_is_asked_for(tmp_path):
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE", "DEBUG")
    }
    port = free_port()
    env.update(BRAIN_DATA_DIR=str(tmp_path), PORT=str(port))
    with bin_run(env, tmp_path, port=port) as (process, url, log):
        page = httpx.get(f"{url}/missions/nowhere/", headers={"Accept": "text/html"})
        assert page.status_code == 404
        assert "There is nothing at" in page.text
        assert "Using the URLconf" not in page.text  # Django's debug page
        assert "admin_password" in log.read_text()
