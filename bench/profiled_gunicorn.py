"""gunicorn.conf.py with each worker profiled while the load is measured (`bench/chat_load.py
--profile DIR`): cProfile on CPU time, not wall time (waiting on the network or the database
costs nothing here), switched on when the file DIR/start appears and written to
DIR/node-<port>.prof when DIR/stop appears.

    .venv/bin/python -c "import pstats; pstats.Stats('DIR/node-….prof').sort_stats('tottime').print_stats(30)"
"""
import os
import runpy
import time
from pathlib import Path

globals().update({k: v for k, v in runpy.run_path(str(Path(__file__).resolve().parents[1] / "gunicorn.conf.py")).items() if not k.startswith("__")})
_serving_post_worker_init = post_worker_init  # noqa: F821 (defined by gunicorn.conf.py)


def post_worker_init(worker):
    import cProfile

    import gevent

    _serving_post_worker_init(worker)
    folder = Path(os.environ["PROFILE_DIR"])

    def watch():
        while not (folder / "start").exists():
            gevent.sleep(0.1)
        profiler = cProfile.Profile(time.process_time)
        profiler.enable()
        while not (folder / "stop").exists():
            gevent.sleep(0.1)
        profiler.disable()
        profiler.dump_stats(str(folder / f"node-{os.environ.get('PORT')}.prof"))

    gevent.spawn(watch)
