"""Fit a model from labelled files: select by cross-validation, measure, write a model directory."""
from __future__ import annotations

import datetime as _dt
import json
import logging
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from joblib import cpu_count, parallel_config
from sklearn.base import clone
from sklearn.dummy import DummyClassifier
from sklearn.metrics import confusion_matrix, f1_score
from sklearn.model_selection import GridSearchCV, StratifiedKFold, cross_validate
from sklearn.pipeline import Pipeline

from ..errors import DataError, NegclassError
from ..model import card, registry, store, taxonomy
from ..model.estimator import ReasonSignalClassifier, join_labels, split_labels
from ..model.features import LinguisticParser, build_features
from ..model.gate import UNKNOWN, build_gate, gate_labels
from ..model.pipeline import MailCleaner, WholeTextClassifier, build_pipeline
from ..model.predict import Model
from . import dataset
from .baselines import KeywordRuleBaseline
from .evaluate import metrics_of_results, reason_metrics

log = logging.getLogger("negclass.train")


@dataclass(frozen=True)
class Corpus:
    """The labelled data of a negclass source checkout, which a wheel does not carry: the corpus
    (``data/corpus/*.jsonl``), the fixed held-out split (``data/split.csv``) and the real mail the
    refusal threshold and calibration are chosen on (``data/real-dev.jsonl``, never trained on).
    ``root`` is the checkout; ``scripts/`` pass theirs, the command line finds it with ``checkout``."""

    root: Path

    @property
    def files(self) -> list[Path]:
        return sorted((Path(self.root) / "data" / "corpus").glob("*.jsonl"))

    @property
    def split(self) -> Path:
        return Path(self.root) / "data" / "split.csv"

    @property
    def tune(self) -> Path:
        return Path(self.root) / "data" / "real-dev.jsonl"


def checkout() -> Corpus | None:
    """The corpus of the source checkout this negclass runs from, when it was installed from it in
    editable mode (``pip install -e .``), as the installer recorded it (``direct_url.json``,
    PEP 610); ``None`` for any other install (a wheel, ``pip install .``, an index) or when the
    checkout has no corpus."""
    from importlib.metadata import distributions
    from urllib.parse import unquote, urlparse
    from urllib.request import url2pathname

    running = Path(__file__).resolve().parents[1]  # the negclass package (this is negclass/training/train.py)
    for dist in distributions(name="negclass"):
        try:
            where = json.loads(dist.read_text("direct_url.json") or "{}")
        except ValueError:
            continue
        url = urlparse(str(where.get("url", "")))
        if url.scheme != "file" or not (where.get("dir_info") or {}).get("editable"):
            continue
        root = Path(url2pathname(unquote(url.path)))
        if (root / "negclass").resolve() == running:  # the checkout of the code that is running
            corpus = Corpus(root)
            return corpus if corpus.files else None
    return None


@dataclass
class TrainConfig:
    """Every knob of a training run; saved with the model and printed in its card."""

    seed: int = 0
    cv_folds: int = 5
    linear_grid: tuple[tuple[str, float], ...] = (("svm", 1.0), ("svm", 3.0))
    signal_modes: tuple[str, ...] = ("joint", "two_stage")  # "hierarchical" is available; it trailed by 0.03 CV macro-F1
    use_chars: tuple[bool, ...] = (True, False)
    calibration: str = "sigmoid"
    calibration_folds: int = 3
    word_max_features: int = 30000
    char_max_features: int = 30000
    cue_weight: float = 1.0
    selection_tolerance: float = 0.005      # CV macro-F1 within this of the best counts as a tie
    low_confidence_accuracy: float = 0.95   # confident OOF predictions must be at least this accurate
    max_real_false_alarm: float = 0.05      # refusal threshold: OOF false alarms on real non-refusals at most this
    tune_false_alarm: float = 0.04          # with a real-mail tuning set: its false alarms at most this
    # Platt-rescale P(refusal) on the tuning set. Off: fitted on 738 real dev messages (35 refusals)
    # its slope of about 0.4 squeezed every P(refusal) towards the mailbox base rate, so texts pasted
    # one at a time (the written dev set) fell below any threshold a user would read as a refusal;
    # the threshold alone adapts the decision to real mail, and P(refusal) keeps one meaning.
    tune_recalibrate: bool = False
    # fewer refusals (or non-refusals) than this in the tuning set: no recalibration. With three real
    # refusals among 539 messages, Platt scaling pushed every P(refusal) below 0.2 and the model
    # flagged nothing on the real test set; ten is the least that fitted a usable slope.
    tune_min_per_class: int = 10
    tune_min_negatives: int = 50            # fewer real non-refusals than this: their false alarms are not used
    # training weight of rows from real_weight_sources (real mail and the pairs edited from it: two
    # thirds of the rows). At 0.5 the written examples weigh about as much as they do: on the dev sets
    # 0.5, 1 and 2 gave real dev AUC 0.686, 0.673, 0.665 and written macro-F1 0.868, 0.848, 0.830.
    real_weight: float = 0.5
    real_weight_sources: tuple = ("enron-mined", "enron-pool", "enron-pairs")
    tune_min_threshold: float = 0.2         # the real-mail threshold is never lower than this
    # the stance-content gate (model/gate.py): P(refusal) times (1 - P(no stance content)) ** power;
    # 0 leaves it out. It learns from the rows whose annotators recorded a kind of message.
    gate_power: float = 1.0
    gate_C: float = 2.0
    gate_max_features: int = 20000          # its n-gram vocabulary: a larger one slows loading the model
    real_sources: tuple[str, ...] = ("enron-mined", "enron-pool")  # `source` of unedited real mail
    # Above this many training rows the search is cut to keep training time in bounds: fewer folds
    # (each fold still trains on thousands of rows) and no character n-gram candidates (the
    # slowest features to build, and never chosen on the shipped corpus; see ``_select``).
    large_data_rows: int = 6000
    large_data_folds: int = 3
    large_data_use_chars: tuple[bool, ...] = (False,)
    n_jobs: int = 0                         # cross-validation fits run side by side (threads); 0 = one per core


@dataclass
class TrainResult:
    out_dir: Path
    meta: dict
    metrics: dict = field(default_factory=dict)
    heldout: pd.DataFrame | None = None   # the held-out rows the model was measured on


def read_split(path: Path | None) -> dict[str, str]:
    """id -> 'train' | 'test' from the fixed split file (CSV with columns id, split)."""
    if path is None or not Path(path).exists():
        return {}
    frame = pd.read_csv(path, dtype=str)
    if not {"id", "split"} <= set(frame.columns):
        raise DataError(path, None, "split file needs columns 'id' and 'split'")
    return dict(zip(frame["id"], frame["split"]))


def _labelled_texts(texts) -> list[str]:
    """Labelled examples as the pipeline's cleaning step reads them when it is fitted."""
    return MailCleaner().as_labelled(list(texts))


def _choose_refusal_threshold(proba, y, is_real, cfg: TrainConfig, clf: ReasonSignalClassifier) -> float:
    best = (-1.0, 0.5)
    present = [r for r in taxonomy.reasons() if (y == r).any()]
    real_none = is_real & (y == taxonomy.NONE)
    for t in np.round(np.arange(0.30, 0.951, 0.025), 3):
        clf.refusal_threshold = float(t)
        pred = clf.decide(proba)
        if real_none.any() and (pred[real_none] != taxonomy.NONE).mean() > cfg.max_real_false_alarm:
            continue
        f1 = f1_score(y, pred, labels=present, average="macro")
        if f1 > best[0] + 1e-9:
            best = (f1, float(t))
    return best[1]


def _tune_on_real(reader: WholeTextClassifier, tune: pd.DataFrame, cfg: TrainConfig) -> dict:
    """Choose the refusal threshold on labelled real mail, never trained on: the lowest one whose
    false alarms on its real non-refusals stay within ``cfg.tune_false_alarm`` (and no lower than
    ``cfg.tune_min_threshold``), so the model finds as many refusals as that rate of false alarms
    allows. With ``cfg.tune_recalibrate`` and enough real refusals, P(refusal) is first recalibrated
    there. With too few real non-refusals to measure false alarms, the cross-validated threshold
    stays."""
    texts = _labelled_texts(tune["text"])
    is_refusal = (tune["reason"] != taxonomy.NONE).to_numpy()
    clf = reader.clf
    clf.refusal_scale_ = None
    proba = reader.predict_proba(texts)
    if cfg.tune_recalibrate and min(is_refusal.sum(), (~is_refusal).sum()) >= cfg.tune_min_per_class:
        clf.calibrate_refusal(proba, is_refusal)
        proba = reader.predict_proba(texts)
    p_ref = 1.0 - proba[:, list(clf.classes_).index(taxonomy.NONE)]
    cv_threshold, negatives = clf.refusal_threshold, p_ref[~is_refusal]
    threshold, note = cv_threshold, "too few real non-refusals to measure false alarms: cross-validated threshold kept"
    if len(negatives) >= cfg.tune_min_negatives:
        grid = np.round(np.arange(cfg.tune_min_threshold, 0.991, 0.01), 3)
        threshold = next((float(t) for t in grid if (negatives >= t).mean() <= cfg.tune_false_alarm), float(grid[-1]))
        note = "lowest threshold with false alarms on the real non-refusals within the cap"
    clf.refusal_threshold = threshold
    flagged = p_ref >= threshold
    tp = int((flagged & is_refusal).sum())
    return {"examples": int(len(tune)), "refusals": int(is_refusal.sum()),
            "refusal_scale": None if clf.refusal_scale_ is None else list(clf.refusal_scale_),
            "refusal_threshold": threshold, "cv_threshold": cv_threshold,
            "refusal_f1": 2 * tp / max(int(flagged.sum() + is_refusal.sum()), 1) if is_refusal.any() else None,
            "refusal_recall": float(flagged[is_refusal].mean()) if is_refusal.any() else None,
            "false_alarm_rate": float(flagged[~is_refusal].mean()) if (~is_refusal).any() else None,
            "note": note}


def _choose_low_confidence(proba, y, pred, cfg: TrainConfig, classes) -> dict:
    conf = proba[np.arange(len(pred)), [list(classes).index(p) for p in pred]]
    top2 = np.sort(proba, axis=1)[:, -2:]
    margin = top2[:, 1] - top2[:, 0]
    correct = pred == y
    best = {"min_confidence": 1.0, "min_margin": 0.0, "coverage": 0.0, "accuracy_confident": None}
    for tau in np.round(np.arange(0.30, 0.91, 0.05), 2):
        for mu in np.round(np.arange(0.0, 0.41, 0.05), 2):
            keep = (conf >= tau) & (margin >= mu)
            if keep.sum() < 20:
                continue
            acc = correct[keep].mean()
            if acc >= cfg.low_confidence_accuracy and keep.mean() > best["coverage"] + 1e-9:
                best = {"min_confidence": float(tau), "min_margin": float(mu),
                        "coverage": float(keep.mean()), "accuracy_confident": float(acc)}
    return best


def train(data_files: list[Path] | None = None, out_dir: Path | None = None, *, corpus: Corpus | None = None,
          split_file: Path | None = None, reports: list[Path] | None = None, config: TrainConfig | None = None,
          name: str | None = None, progress=print, heldout_files: list[Path] | None = None,
          tune_files: list[Path] | None = None) -> TrainResult:
    """Train, measure and write a model directory.

    ``data_files`` (default: the ``corpus`` files) may include scored files with corrected rows
    (see ``dataset``). With a ``corpus``, ``split_file``, ``heldout_files`` and ``tune_files``
    default to its split, its files and its real-mail tuning set; without one there are none.
    The held-out rows are the split's test rows of ``data_files`` and of ``heldout_files``, so a
    model trained without the corpus is measured on the same rows. Rows outside the corpus that
    repeat a held-out or ``reports`` example are refused as leakage.

    The model is written to ``out_dir``; without one, it is registered like the models
    ``negclass train`` makes (``registry.models_dir()/NAME``, ``name`` or the date and time),
    never into the package, and not made the default.
    """
    cfg = config or TrainConfig()
    corpus_files = corpus.files if corpus is not None else []
    data_files = [Path(p) for p in (data_files or corpus_files)]
    if not data_files:
        raise NegclassError("nothing to train on: give the labelled files (or a corpus)")
    if split_file is None and corpus is not None:
        split_file = corpus.split
    if heldout_files is None:
        heldout_files = corpus_files
    if tune_files is None:
        tune_files = [corpus.tune] if corpus is not None and corpus.tune.exists() else []
    out_dir, name = _out_dir(out_dir, name)
    frame, summaries = dataset.load_files(data_files)
    split = read_split(split_file)
    is_test = frame["id"].map(lambda i: split.get(i) == "test").to_numpy()
    tr, te = frame[~is_test].reset_index(drop=True), frame[is_test].reset_index(drop=True)
    base = {p.resolve() for p in corpus_files}
    added = [s for s in summaries if s.path.resolve() not in base]
    for s in added:
        progress(s.text())
    te = _with_heldout_rows(te, heldout_files, data_files, split, frame)
    extra = tr["file"].map(lambda f: Path(f).resolve() not in base).to_numpy()
    if extra.any():
        for line in dataset.duplicates(tr, extra):
            progress(f"duplicate: {line}")
        dataset.check_leakage(tr[extra], te, "held-out")
    report_frames = {Path(p): dataset.load([p]) for p in reports or []}
    tune = dataset.load([Path(p) for p in tune_files]) if tune_files else None
    for path, rep in [*report_frames.items(), *([("tune", tune)] if tune is not None else [])]:
        dataset.check_leakage(tr, rep, f"--report {Path(path).name}")
    progress(f"data: {len(frame)} examples from {len(data_files)} files; {len(tr)} train, {len(te)} held out")

    parser = LinguisticParser().fit(None)
    texts_tr = _labelled_texts(tr["text"])
    parsed_tr = parser.transform(texts_tr)
    y = tr["reason"].to_numpy(dtype=object)
    missing = [r for r in taxonomy.reasons() if r not in set(y)]
    if missing:  # the model's probability columns are the taxonomy's reasons
        raise NegclassError(f"training data has no example of {', '.join(missing)}")
    signals = tr["signal"].to_numpy(dtype=object, copy=True)
    signals[(y != taxonomy.NONE) & pd.isna(signals)] = None  # a refusal labelled without its signal: unknown
    labels = join_labels(y, signals)  # "reason/signal": the signal goes in with the target
    is_real = tr["source"].isin(cfg.real_sources).to_numpy()

    n_folds, use_chars = cfg.cv_folds, cfg.use_chars
    if len(tr) > cfg.large_data_rows:
        n_folds, use_chars = cfg.large_data_folds, cfg.large_data_use_chars
        progress(f"{len(tr)} training rows (over {cfg.large_data_rows}): {n_folds}-fold search, "
                 f"character n-grams {'tried' if True in use_chars else 'left out'}")
    # mail written by real people (as read, or minimally edited) weighs more than written examples
    weights = np.where(tr["source"].isin(cfg.real_weight_sources).to_numpy(), cfg.real_weight, 1.0)
    folds = list(StratifiedKFold(n_folds, shuffle=True, random_state=cfg.seed).split(texts_tr, y))
    candidates = [(lin, mode, chars) for chars in use_chars for lin in cfg.linear_grid for mode in cfg.signal_modes]
    # the texts are parsed once; the search varies the features and the classifier on the parses.
    # Fits run in threads: liblinear releases the GIL while fitting
    n_jobs = cfg.n_jobs or cpu_count()
    search = GridSearchCV(_search_pipeline(cfg), _param_grid(candidates, cfg), scoring=_fold_counts,
                          refit=False, cv=folds, n_jobs=n_jobs, error_score="raise")
    with parallel_config(backend="threading"):
        search.fit(parsed_tr, labels, clf__sample_weight=weights)
    progress(f"cross-validation: {len(candidates)} candidates x {n_folds} folds done")
    selection = _selection_table(search.cv_results_, candidates, n_folds)
    # refit=_tolerant_best(...) would pick the same candidate; the search does not refit it, since
    # the model is the whole pipeline, fitted on the raw texts below
    index = _tolerant_best(cfg.selection_tolerance, candidates, n_folds)(search.cv_results_)
    best, cand = selection[index], candidates[index]
    progress(f"selected {cand[0][0]} C={cand[0][1]} signal_mode={cand[1]} chars={cand[2]} (CV macro-F1 {best['cv_macro_f1']:.3f})")

    # the chosen candidate's out-of-fold probabilities and signals (the refusal threshold and the
    # low-confidence rule are chosen on them), from its models of the same folds
    with parallel_config(backend="threading"):
        oof, oof_signal = _out_of_fold(clone(search.estimator).set_params(**search.cv_results_["params"][index]),
                                       parsed_tr, labels, folds, weights, n_jobs)

    clf = _classifier(cand[0], cand[1], cfg)
    clf.classes_ = np.array(taxonomy.reasons(), dtype=object)
    threshold = _choose_refusal_threshold(oof, y, is_real, cfg, clf)
    clf.refusal_threshold = threshold
    oof_pred = clf.decide(oof)
    low_conf = _choose_low_confidence(oof, y, oof_pred, cfg, clf.classes_)
    cv_metrics = reason_metrics(y, oof_pred, oof, signals, oof_signal)

    gate_y = gate_labels(tr["reason"], tr["kind"] if "kind" in tr else [None] * len(tr), tr["source"],
                         cfg.real_sources)
    pipeline = build_pipeline(LinguisticParser(),
                              build_features(cfg.word_max_features, cfg.char_max_features, cand[2], cfg.cue_weight),
                              _classifier(cand[0], cand[1], cfg, threshold),
                              min_confidence=low_conf["min_confidence"], min_margin=low_conf["min_margin"],
                              gate=build_gate(cfg.gate_C, cfg.gate_max_features, cfg.seed) if cfg.gate_power > 0 else None,
                              gate_power=cfg.gate_power)
    pipeline.fit(tr["text"].tolist(), labels, read__clf__sample_weight=weights, read__gate_y=gate_y)
    gate_meta = None
    if pipeline.named_steps["read"].gate_ is not None:
        gate_meta = {"rows": int((gate_y != UNKNOWN).sum()), "no_stance_content": int((gate_y == 1).sum()),
                     "power": cfg.gate_power}
        progress(f"stance-content gate fitted on {gate_meta['rows']} rows "
                 f"({gate_meta['no_stance_content']} with no stance content)")
    elif cfg.gate_power > 0:
        progress("no stance-content gate: no training rows record a kind of message with no stance content")
    model = Model(pipeline, {"name": name})
    tuning = None
    if tune is not None and len(tune):
        tuning = _tune_on_real(pipeline.named_steps["read"], tune, cfg)
        threshold = tuning["refusal_threshold"]
        progress(f"tuned on {len(tune)} real messages: refusal threshold {threshold}, "
                 f"recalibration {tuning['refusal_scale']}")

    majority = DummyClassifier(strategy="most_frequent").fit(texts_tr, y)
    keyword = KeywordRuleBaseline().fit(texts_tr, y)

    def measure(df: pd.DataFrame) -> dict:
        texts = _labelled_texts(df["text"])
        results = list(model.classify_many(df["text"].tolist(), explain=False))
        yt = df["reason"].to_numpy(dtype=object)
        return {"model": metrics_of_results(yt, df["signal"].tolist(), results),
                "majority": reason_metrics(yt, majority.predict(texts)),
                "keyword_rules": reason_metrics(yt, keyword.predict(texts))}

    metrics = {"cross_validation": cv_metrics, "selection": selection}
    if tuning is not None:
        metrics["tuning"] = tuning
        metrics["real_dev"] = measure(tune)
    if len(te):
        metrics["heldout"] = measure(te)
    for path, rep in report_frames.items():
        metrics[path.stem] = measure(rep)

    import sklearn
    import spacy
    meta = {
        "name": name,
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "reasons": taxonomy.reasons(),
        "signals": {r: taxonomy.signals(r) for r in taxonomy.reasons()},
        "refusal_threshold": threshold,
        "low_confidence": low_conf,
        "selected": {"linear": cand[0][0], "C": cand[0][1], "signal_mode": cand[1], "use_chars": cand[2]},
        "gate": gate_meta,
        "config": asdict(cfg),
        "search": {"folds": n_folds, "use_chars": list(use_chars), "candidates": len(candidates)},
        "data": {"files": [p.name for p in data_files], "fingerprint": dataset.fingerprint(frame),
                 "train": _counts(tr), "heldout": _counts(te),
                 **({"per_file": {s.path.name: s.used for s in summaries}} if added else {})},
        "versions": {"negclass": _version(), "scikit-learn": sklearn.__version__, "spacy": spacy.__version__,
                     "spacy-lookups-data": store.installed_version("spacy-lookups-data"),
                     "numpy": np.__version__, "pandas": pd.__version__},
    }
    store.save(out_dir, pipeline, meta, metrics, card.model_card(meta, metrics))
    progress(f"model written to {out_dir}")
    return TrainResult(out_dir, meta, metrics, te)


def _out_dir(out_dir: Path | None, name: str | None) -> tuple[Path, str]:
    """Where the model goes and its name: ``out_dir`` as given (named ``name`` or "default"),
    else a new directory in the registry, as for the models ``negclass train`` registers."""
    if out_dir is not None:
        return Path(out_dir), name or "default"
    name = registry.check_name(name) if name else registry.new_name()
    path = registry.path_of(name)
    if path.exists():
        raise NegclassError(f"a model named {name!r} already exists ({path}); choose another name")
    return path, name


def _with_heldout_rows(te: pd.DataFrame, heldout_files, data_files, split: dict, frame: pd.DataFrame) -> pd.DataFrame:
    """Add the split's test rows of held-out files that are not being trained on."""
    if not split:
        return te
    given = {Path(p).resolve() for p in data_files}
    files = [Path(p) for p in heldout_files if Path(p).resolve() not in given]
    if not files:
        return te
    more = dataset.load(files)
    more = more[more["id"].map(lambda i: split.get(i) == "test") & ~more["id"].isin(frame["id"])]
    return pd.concat([te, more], ignore_index=True) if len(more) else te


def _select(selection: list[dict], tolerance: float) -> dict:
    """The best candidate by CV macro-F1; among those within ``tolerance`` of it, the simplest is
    preferred: one without character n-grams (they carry a writer's style, and real mail punishes
    that), then the most regularised (smallest C), then one model over two (``joint`` before
    ``two_stage``), then the best CV macro-F1."""
    top = max(s["cv_macro_f1"] for s in selection)
    close = [s for s in selection if s["cv_macro_f1"] >= top - tolerance]
    return max(close, key=lambda s: (not s["use_chars"], -s["C"], s["signal_mode"] == "joint",
                                     round(s["cv_macro_f1"], 4), s["cv_signal_accuracy"] or 0))


def _search_pipeline(cfg: TrainConfig) -> Pipeline:
    """The part of the model the search varies: features -> classifier, on parsed texts."""
    return Pipeline([("features", build_features(cfg.word_max_features, cfg.char_max_features, False, cfg.cue_weight)),
                     ("clf", _classifier(cfg.linear_grid[0], cfg.signal_modes[0], cfg))])


def _param_grid(candidates, cfg: TrainConfig) -> list[dict]:
    """One grid point per candidate ``((linear, C), signal_mode, use_chars)``, in their order."""
    return [{"features": [build_features(cfg.word_max_features, cfg.char_max_features, chars, cfg.cue_weight)],
             "clf__linear": [lin], "clf__C": [C], "clf__signal_mode": [mode]}
            for (lin, C), mode, chars in candidates]


def _fold_counts(estimator, X, y) -> dict[str, int]:
    """The search's scorer: counts on one test fold that add up, over the folds, to the pooled
    out-of-fold figures the selection compares (``_pooled``). ``cm_i_j``: texts of the taxonomy's
    reason i whose most probable reason is j; ``signal_right`` of ``signal_rows``: texts labelled
    with a signal whose signal, predicted for their true reason, is that one."""
    reasons, signals = split_labels(y)
    features, clf = estimator[:-1].transform(X), estimator[-1]
    pred = clf.classes_[clf.predict_proba(features).argmax(axis=1)]
    labels = taxonomy.reasons()
    cm = confusion_matrix(reasons, pred, labels=labels)
    out = {f"cm_{i}_{j}": int(cm[i, j]) for i in range(len(labels)) for j in range(len(labels))}
    predicted = clf.predict_signal(features, list(reasons))
    pairs = [(t, p) for t, p in zip(signals, predicted) if isinstance(t, str) and t]
    out["signal_rows"] = len(pairs)
    out["signal_right"] = sum(t == p for t, p in pairs)
    return out


def _pooled(cv_results: dict, index: int, n_folds: int) -> tuple[float, float | None]:
    """CV macro-F1 and signal accuracy of one candidate over all its out-of-fold predictions, from
    the counts ``_fold_counts`` scored on each fold (not the mean of per-fold figures)."""
    labels = taxonomy.reasons()

    def total(key: str) -> int:
        return int(round(sum(float(cv_results[f"split{k}_test_{key}"][index]) for k in range(n_folds))))

    cells = [(i, j, total(f"cm_{i}_{j}")) for i in range(len(labels)) for j in range(len(labels))]
    truth = np.array([labels[i] for i, _, n in cells for _ in range(n)], dtype=object)
    pred = np.array([labels[j] for _, j, n in cells for _ in range(n)], dtype=object)
    rows, right = total("signal_rows"), total("signal_right")
    return reason_metrics(truth, pred)["macro_f1"], (right / rows if rows else None)


def _selection_table(cv_results: dict, candidates, n_folds: int) -> list[dict]:
    """One row per candidate, in the search's order: its settings and pooled CV figures."""
    table = []
    for index, ((lin, C), mode, chars) in enumerate(candidates):
        params = cv_results["params"][index]
        assert (params["clf__linear"], params["clf__C"], params["clf__signal_mode"]) == (lin, C, mode)
        f1, signal_accuracy = _pooled(cv_results, index, n_folds)
        table.append({"linear": lin, "C": C, "signal_mode": mode, "use_chars": chars,
                      "cv_macro_f1": f1, "cv_signal_accuracy": signal_accuracy})
    return table


def _tolerant_best(tolerance: float, candidates, n_folds: int):
    """The selection rule (``_select``) as a ``refit`` callable of ``GridSearchCV``: the index of
    the chosen candidate in ``cv_results_``."""
    def best_index(cv_results: dict) -> int:
        table = _selection_table(cv_results, candidates, n_folds)
        chosen = _select(table, tolerance)
        return next(i for i, row in enumerate(table) if row is chosen)
    return best_index


def _out_of_fold(estimator, X, labels, folds, weights, n_jobs) -> tuple[np.ndarray, np.ndarray]:
    """Out-of-fold reason probabilities and signals (predicted for the true reason) of one
    candidate, from its models fitted on ``folds`` by ``cross_validate``."""
    runs = cross_validate(estimator, X, labels, cv=folds, n_jobs=n_jobs, params={"clf__sample_weight": weights},
                          scoring=_no_score, return_estimator=True, return_indices=True, error_score="raise")
    reasons = split_labels(labels)[0]
    proba = np.zeros((len(labels), len(taxonomy.reasons())))
    signal = np.empty(len(labels), dtype=object)
    for model, test in zip(runs["estimator"], runs["indices"]["test"]):
        features = model[:-1].transform([X[i] for i in test])
        proba[test] = model[-1].predict_proba(features)
        signal[test] = model[-1].predict_signal(features, list(reasons[test]))
    return proba, signal


def _no_score(estimator, X, y) -> float:
    """``cross_validate`` must score; ``_out_of_fold`` only keeps the fitted models."""
    return 0.0


def _classifier(linear: tuple[str, float], mode: str, cfg: TrainConfig, threshold=None) -> ReasonSignalClassifier:
    return ReasonSignalClassifier(linear[0], linear[1], mode, cfg.calibration, cfg.calibration_folds,
                                  threshold, cfg.seed)


def _counts(df: pd.DataFrame) -> dict:
    return {"examples": int(len(df)),
            "reason": {k: int(v) for k, v in df["reason"].value_counts().sort_index().items()},
            "signal": {k: int(v) for k, v in df["signal"].dropna().value_counts().sort_index().items()}}


def _version() -> str:
    from .. import __version__
    return __version__
