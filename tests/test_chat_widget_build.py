"""The widget served to partners is the one its sources build: app/static/widget/ is committed
(so that `make run` needs no Node) and must not drift from widget/src/."""
import filecmp
import shutil
import subprocess
from pathlib import Path

from tests.conftest import require_or_skip

ROOT = Path(__file__).resolve().parents[1]
WIDGET = ROOT / "widget"


def test_the_committed_widget_is_built_from_its_sources(tmp_path):
    if not shutil.which("node") or not (WIDGET / "node_modules" / "esbuild").exists():
        require_or_skip("the widget's build tools are not installed (make install-dev, which runs npm ci in widget/)")
    subprocess.run(["node", "build.mjs", str(tmp_path)], cwd=WIDGET, check=True)
    built = sorted(p.name for p in tmp_path.iterdir())
    assert built == ["console.js", "frame.css", "frame.js", "loader.js"]
    stale = [name for name in built if not filecmp.cmp(tmp_path / name, ROOT / "app" / "static" / "widget" / name, shallow=False)]
    assert not stale, f"rebuild the widget (make widget) and commit: {stale} differ from widget/src"


def test_the_loader_is_small():
    import gzip

    loader = (ROOT / "app" / "static" / "widget" / "loader.js").read_bytes()
    assert len(gzip.compress(loader, 9)) < 2048  # what every page of the partner's software downloads
