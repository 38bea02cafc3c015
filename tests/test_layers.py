"""The layers of app/ (README, "Layers"): models → security → services → adapters → the
application factory, no import cycle inside a package. The contract lives in pyproject.toml
and `lint-imports` checks it; `make lint` runs it too."""
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = str(Path(sys.executable).parent / "lint-imports")


def lint_imports(root):
    return subprocess.run(
        [LINT_IMPORTS, "--no-cache", "--config", str(root / "pyproject.toml")],
        cwd=root, env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"}, capture_output=True, text=True, timeout=300,
    )


def test_the_code_keeps_its_layers():
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.fixture(scope="module")
def copy_of_the_code(tmp_path_factory):
    root = tmp_path_factory.mktemp("layers")
    shutil.copytree(ROOT / "app", root / "app", ignore=shutil.ignore_patterns("static", "templates", "translations", "__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", root / "pyproject.toml")
    return root


@pytest.mark.parametrize(
    ("module", "line", "broken"),
    [
        ("app/models/types.py", "from app.services import clock", "app.models is not allowed to import app.services"),
        ("app/security/scopes.py", "from app.services import audit", "app.security.scopes is not allowed to import app.services"),
        ("app/services/clock.py", "from app import worker", "app.services is not allowed to import app.worker"),
        ("app/services/clock.py", "from app.views import labels", "app.services is not allowed to import app.views"),
        ("app/services/clock.py", "from app.channels import mail_in", "app.services is not allowed to import app.channels"),
        ("app/views/labels.py", "from app.api import people", "app.views is not allowed to import app.api"),
        ("app/channels/mail_parse.py", "from app import create_app", "is not allowed to import app:"),
        ("app/services/public_address.py", "from app.services import accounts", "No cycles are allowed in app.services"),
    ],
)
def test_an_import_across_the_layers_is_refused(copy_of_the_code, module, line, broken):
    """Each kind of wrong import, added to a copy of the code, breaks the contract."""
    path = copy_of_the_code / module
    original = path.read_text()
    path.write_text(original + f"\n{line}  # noqa\n")
    try:
        result = lint_imports(copy_of_the_code)
    finally:
        path.write_text(original)
    assert result.returncode != 0, result.stdout
    assert broken in result.stdout, result.stdout
