"""The local web page: paste a message, score a mailbox file, correct labels (``negclass serve``).

Needs the optional extra ``negclass[web]`` (FastAPI, uvicorn, python-multipart).
"""
from __future__ import annotations

WEB_EXTRA_HINT = "the web page needs the optional extra: pip install 'negclass[web]'"


def missing_dependency() -> str | None:
    """The name of the first web dependency that is not installed, or None."""
    import importlib.util

    for modules, package in ((("fastapi",), "fastapi"), (("uvicorn",), "uvicorn"),
                             (("python_multipart", "multipart"), "python-multipart")):
        if not any(importlib.util.find_spec(m) is not None for m in modules):
            return package
    return None


def create_app(*args, **kwargs):
    """The FastAPI application (see ``negclass.apps.web.app.create_app``)."""
    from .app import create_app as _create_app

    return _create_app(*args, **kwargs)
