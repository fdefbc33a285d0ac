"""The baseline of bench/bench_verify.py: Flask with one route that answers "ok".

Served by gunicorn with the same settings as the application, it is the most a Flask app
can do on this machine; the verification pages are measured against it.
"""

from __future__ import annotations

from flask import Flask

app = Flask(__name__)


@app.get("/ok")
def ok() -> str:
    return "ok"
