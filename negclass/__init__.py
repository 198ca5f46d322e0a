"""negclass: why a counterparty will not negotiate, and what to do about it.

    >>> import negclass
    >>> model = negclass.load_model()
    >>> result = model.classify("We're happy with our current supplier, thanks.")
    >>> result.reason, result.tactics[0].title
"""
from __future__ import annotations

__version__ = "0.1.0"
__all__ = ["load_model", "Classification", "Evidence", "Model", "__version__"]


def __getattr__(name):  # import the heavy modules only when they are used
    if name in {"load_model", "Classification", "Evidence", "Model"}:
        from .model import predict
        return getattr(predict, name)
    raise AttributeError(name)
