"""Retrain with your own examples, compare with the current default on the same held-out rows,
and make the new model the default only if it is not worse.

The new model is written under the registry (``registry.models_dir()``) before anything else
changes; the default pointer moves afterwards, atomically. A model that is not promoted stays
registered beside the others and can be chosen later with ``negclass models use NAME``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..errors import ModelError, NegclassError
from ..model import registry, taxonomy
from .evaluate import metrics_of_results
from .train import Corpus, TrainConfig, train

# A quick search for small data sets and experiments: one setting, two folds.
QUICK = dict(cv_folds=2, linear_grid=(("svm", 1.0),), signal_modes=("joint",), use_chars=(False,),
             calibration_folds=2)
DECIMALS = 3   # macro-F1 is compared as shown: rounded to this many decimals


@dataclass
class Outcome:
    name: str | None            # registered name (None with --out)
    out_dir: Path
    new: dict | None            # held-out metrics of the new model
    current: dict | None        # held-out metrics of the current default on the same rows
    current_name: str | None
    current_problem: str | None
    promoted: bool
    why: str
    changed: dict = field(default_factory=dict)
    train_metrics: dict = field(default_factory=dict)


def measure(model_dir: Path, frame: pd.DataFrame) -> tuple[dict, list]:
    """Held-out metrics of a model directory on labelled rows, and its predicted reasons."""
    from ..model.predict import load_model

    model = load_model(model_dir)
    results = list(model.classify_many(frame["text"].tolist(), explain=False))
    m = metrics_of_results(frame["reason"].tolist(), frame["signal"].tolist(), results)
    return m, [r.reason if not r.error else taxonomy.NONE for r in results]


def not_worse(new: dict, current: dict) -> bool:
    return round(new["macro_f1"], DECIMALS) >= round(current["macro_f1"], DECIMALS)


NO_CORPUS = ("the corpus (data/corpus) comes with a source checkout of negclass installed with "
             "'pip install -e .', not with this install")


def retrain(extra_files: list[Path], *, corpus: Corpus | None = None, base: bool = True, name: str | None = None,
            out: Path | None = None, force: bool = False, split_file: Path | None = None,
            reports: list[Path] | None = None, seed: int = 0, quick: bool = False, progress=print) -> Outcome:
    """Train on ``extra_files`` and, with ``base``, the ``corpus`` files (``train.checkout()`` finds
    the checkout's corpus for the command line); the corpus also gives the held-out rows, the
    split (unless ``split_file``) and the real-mail tuning set, with or without ``base``."""
    extra_files = [Path(p) for p in extra_files or []]
    corpus_files = corpus.files if corpus is not None and base else []
    files = corpus_files + [p for p in extra_files if p.resolve() not in {c.resolve() for c in corpus_files}]
    if not files:
        raise NegclassError("nothing to train on: give --data FILE" +
                            (" (or leave out --no-base)" if corpus is not None else f"; {NO_CORPUS}"))
    if base and corpus is None:
        progress(f"{NO_CORPUS}: training on your files only")
    split_file = split_file or (corpus.split if corpus is not None else None)

    if out is None:
        name = registry.check_name(name) if name else registry.new_name()
        out_dir = registry.path_of(name)
        if out_dir.exists():
            raise NegclassError(f"a model named {name!r} already exists ({out_dir}); choose another --name")
    else:
        out_dir = Path(out)
    current_name = registry.default_name()
    current_dir = registry.path_of(current_name)

    config = TrainConfig(seed=seed, **(QUICK if quick else {}))
    result = train(files, out_dir, corpus=corpus, split_file=split_file, reports=reports, config=config,
                   name=name or out_dir.name, progress=progress)
    heldout = result.heldout if result.heldout is not None else pd.DataFrame()

    new_m = current_m = None
    problem = None
    changed: dict = {}
    if len(heldout):
        new_m, new_pred = measure(out_dir, heldout)
        if current_dir.is_dir():
            try:
                current_m, cur_pred = measure(current_dir, heldout)
            except ModelError as exc:
                problem = str(exc)
            except Exception as exc:  # noqa: BLE001 - e.g. pickled by an older negclass whose classes changed
                problem = f"it cannot be run by this negclass ({type(exc).__name__}: {exc}); retrain it"
            else:
                truth = heldout["reason"].tolist()
                changed = {"predictions_changed": sum(a != b for a, b in zip(new_pred, cur_pred)),
                           "fixed": sum(a == t != b for a, b, t in zip(new_pred, cur_pred, truth)),
                           "broken": sum(b == t != a for a, b, t in zip(new_pred, cur_pred, truth))}
        else:
            problem = f"there is no current default model ({current_dir} is missing)"

    if out is not None:
        promoted, why = False, f"written to {out_dir} (not registered: use it with --model {out_dir})"
    elif force:
        promoted, why = True, "made the default (--force)"
    elif problem is not None:
        promoted, why = True, f"made the default: the current default {current_name} cannot be compared (see above)"
    elif new_m is None:
        where = f"split file {split_file}" if split_file else "no split file: --split FILE names one"
        promoted, why = False, (f"kept beside, not made the default: there are no held-out rows to compare on "
                                f"({where}); 'negclass models use {name}' or --force to use it anyway")
    elif not_worse(new_m, current_m):
        promoted, why = True, (f"made the default: held-out macro-F1 {new_m['macro_f1']:.3f} is not worse than "
                               f"{current_m['macro_f1']:.3f} ({current_name})")
    else:
        promoted, why = False, (f"kept beside, not made the default: held-out macro-F1 {new_m['macro_f1']:.3f} is "
                                f"worse than {current_m['macro_f1']:.3f} ({current_name}); "
                                f"'negclass models use {name}' or --force to use it anyway")
    if promoted:
        registry.use(name)
    return Outcome(name if out is None else None, out_dir, new_m, current_m, current_name, problem, promoted, why,
                   changed, result.metrics)


def side_by_side(o: Outcome) -> str:
    """The two models on the same held-out rows: macro-F1, per-class F1, what changed."""
    if o.new is None:
        return "no held-out rows: nothing to compare"
    new_label = o.name or o.out_dir.name
    lines = [f"held-out comparison on {o.new['n']} rows"]
    if o.current is None:
        lines.append(f"  current default {o.current_name}: {o.current_problem}")
        lines.append(f"  {'':17}{new_label:>16}")
        lines.append(f"  {'macro-F1':17}{o.new['macro_f1']:>16.3f}")
        for r in taxonomy.reasons():
            lines.append(f"  {'F1 ' + r:17}{o.new['per_class'][r]['f1']:>16.3f}")
        return "\n".join(lines)
    cur_label = f"{o.current_name} (default)"
    width = max(16, len(cur_label) + 2, len(new_label) + 2)
    lines.append(f"  {'':17}{cur_label:>{width}}{new_label:>{width}}{'change':>9}")

    def row(label, a, b):
        if a is None or b is None:
            return
        lines.append(f"  {label:17}{a:>{width}.3f}{b:>{width}.3f}{b - a:>+9.3f}")

    row("macro-F1", o.current["macro_f1"], o.new["macro_f1"])
    row("accuracy", o.current["accuracy"], o.new["accuracy"])
    for r in taxonomy.reasons():
        row(f"F1 {r}", o.current["per_class"][r]["f1"], o.new["per_class"][r]["f1"])
    row("refusal recall", o.current.get("refusal_recall"), o.new.get("refusal_recall"))
    row("false alarms", o.current.get("false_alarm_rate"), o.new.get("false_alarm_rate"))
    row("signal accuracy", o.current.get("signal_accuracy"), o.new.get("signal_accuracy"))
    if o.changed:
        lines.append(f"  {o.changed['predictions_changed']} held-out predictions changed: "
                     f"{o.changed['fixed']} now right, {o.changed['broken']} now wrong")
    return "\n".join(lines)
