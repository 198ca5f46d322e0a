"""The shipped model, installed as the package data of ``negclass.models``.

This directory is the repository's ``models/``; ``pyproject.toml`` maps the ``negclass.models``
package to it, so ``default/`` is found with ``importlib.resources`` both in a source checkout
(editable install) and in an installed wheel. See ``negclass.store.shipped_model_dir``.
"""
