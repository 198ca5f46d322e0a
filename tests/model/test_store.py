import json
import shutil

import pytest

import negclass
from negclass.errors import ModelError
from negclass.model import store


def test_saved_model_loads_and_classifies(tiny_model_dir):
    model = negclass.load_model(tiny_model_dir)
    text = "We have two other suppliers quoting lower, so no need to meet."
    result = model.classify(text)
    assert result.reason == model.pipeline.predict([text])[0]  # the loaded pipeline decides
    assert list(result.probabilities.values()) == pytest.approx(list(model.pipeline.predict_proba([text])[0]), abs=1e-4)
    for name in ("pipeline.joblib", "meta.json", "metrics.json", "MODEL_CARD.md", "manifest.json"):
        assert (tiny_model_dir / name).is_file()


def test_tampered_file_is_refused_before_loading(tiny_model_dir, tmp_path):
    copy = tmp_path / "m"
    shutil.copytree(tiny_model_dir, copy)
    with open(copy / "pipeline.joblib", "ab") as fh:
        fh.write(b"\x00evil")
    with pytest.raises(ModelError, match="does not match its checksum"):
        negclass.load_model(copy)


def test_truncated_and_missing_files(tiny_model_dir, tmp_path):
    copy = tmp_path / "m"
    shutil.copytree(tiny_model_dir, copy)
    data = (copy / "pipeline.joblib").read_bytes()
    (copy / "pipeline.joblib").write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelError, match="changed or truncated"):
        negclass.load_model(copy)
    (copy / "manifest.json").unlink()
    with pytest.raises(ModelError, match="no manifest.json"):
        negclass.load_model(copy)
    with pytest.raises(ModelError, match="no model at"):
        negclass.load_model(tmp_path / "absent")


def _with_version(tiny_model_dir, tmp_path, package, made_with):
    copy = tmp_path / "m"
    shutil.copytree(tiny_model_dir, copy)
    meta = json.loads((copy / "meta.json").read_text())
    meta["versions"][package] = made_with
    (copy / "meta.json").write_text(json.dumps(meta))
    manifest = json.loads((copy / "manifest.json").read_text())
    manifest["meta.json"] = store.sha256_file(copy / "meta.json")
    (copy / "manifest.json").write_text(json.dumps(manifest))
    return copy


@pytest.mark.parametrize("package", ["scikit-learn", "spacy", "spacy-lookups-data"])
def test_other_version_of_a_model_package_says_how_to_fix(tiny_model_dir, tmp_path, package):
    from negclass.model import registry

    copy = _with_version(tiny_model_dir, tmp_path, package, "0.24.2")
    with pytest.raises(ModelError, match=f"{package} 0.24.2.*retrain"):
        negclass.load_model(copy)
    with pytest.raises(ModelError, match=f"{package} 0.24.2"):   # the registry runs the same check
        registry.check(copy)


def test_a_version_mismatch_of_the_shipped_model_never_suggests_training_into_the_package(tiny_model_dir, monkeypatch):
    meta = store.read_json(tiny_model_dir, store.META)
    meta["versions"]["scikit-learn"] = "0.24.2"
    with pytest.raises(ModelError, match="negclass train --data FILE --out") as user:
        store.check_meta(tiny_model_dir, meta)
    monkeypatch.setattr(store, "shipped_model_dir", lambda: tiny_model_dir)
    with pytest.raises(ModelError, match="reinstall negclass") as shipped:
        store.check_meta(tiny_model_dir, meta)
    assert "negclass train" not in str(shipped.value) and "scikit-learn==0.24.2" in str(user.value)


def test_the_training_run_records_the_lookup_tables_version(tiny_model_dir):
    versions = store.read_json(tiny_model_dir, store.META)["versions"]
    assert versions["spacy-lookups-data"] == store.installed_version("spacy-lookups-data") != ""
    store.check_meta(tiny_model_dir, store.read_json(tiny_model_dir, store.META))   # the same versions pass


def test_save_replaces_atomically_and_keeps_old_on_failure(tiny_model_dir, tmp_path, monkeypatch):
    target = tmp_path / "model"
    shutil.copytree(tiny_model_dir, target)
    before = (target / "manifest.json").read_text()

    def boom(*a, **k):
        raise RuntimeError("disk full")

    monkeypatch.setattr("joblib.dump", boom)
    with pytest.raises(RuntimeError):
        store.save(target, object(), {}, {}, "card")
    assert (target / "manifest.json").read_text() == before
    assert [p.name for p in tmp_path.iterdir()] == ["model"]  # no temp leftovers


def test_atomic_write_text(tmp_path):
    path = tmp_path / "x.txt"
    store.atomic_write_text(path, "one")
    store.atomic_write_text(path, "two")
    assert path.read_text() == "two" and len(list(tmp_path.iterdir())) == 1


@pytest.mark.parametrize("umask", [0o022, 0o077])
def test_model_folders_and_written_files_follow_the_umask(tmp_path, umask):
    import os
    import stat

    old = os.umask(umask)
    try:
        store.save(tmp_path / "model", {"a pipeline": 1}, {}, {}, "card")
        store.atomic_write_text(tmp_path / "x.txt", "one")
    finally:
        os.umask(old)
    out = tmp_path / "model"
    assert stat.S_IMODE(out.stat().st_mode) == 0o777 & ~umask
    assert {stat.S_IMODE(p.stat().st_mode) for p in out.iterdir()} == {0o666 & ~umask}
    assert stat.S_IMODE((tmp_path / "x.txt").stat().st_mode) == 0o666 & ~umask


def test_a_figure_measured_after_training_goes_into_metrics_card_and_manifest(tiny_model_dir, tmp_path):
    d = tmp_path / "m"
    shutil.copytree(tiny_model_dir, d)
    pipeline_before = (d / store.PIPELINE).read_bytes()
    store.add_metrics(d, "reserve_audit", {"n": 20, "both": 3, "either": 5, "reserve": 1000, "file": "audit.csv"})
    store.verify(d)  # the manifest matches the rewritten files
    assert store.read_json(d, store.METRICS)["reserve_audit"]["both"] == 3
    card = (d / store.CARD).read_text()
    assert "Precision at the top of unlabelled real mail" in card and "**3 of 20**" in card
    assert (d / store.PIPELINE).read_bytes() == pipeline_before
    negclass.load_model(d).classify("We are happy with our current supplier, thanks.")


def _as_saved_before_the_move(model_dir, out):
    """A copy of a model directory whose pickle names the modules' old, top-level paths."""
    import pickle
    import sys

    import joblib

    shutil.copytree(model_dir, out)
    data = pickle.dumps(joblib.load(out / store.PIPELINE), protocol=0)  # protocol 0: names as text lines
    for old, new in store.MOVED_MODULES.items():
        data = data.replace(b"c" + new.encode() + b"\n", b"c" + old.encode() + b"\n")
    assert b"cnegclass.model." not in data and b"cnegclass.features\n" in data
    (out / store.PIPELINE).write_bytes(data)
    manifest = json.loads((out / store.MANIFEST).read_text("utf-8"))
    manifest[store.PIPELINE] = store.sha256_file(out / store.PIPELINE)
    (out / store.MANIFEST).write_text(json.dumps(manifest), "utf-8")
    assert not set(store.MOVED_MODULES) & set(sys.modules)
    return out


def test_a_model_saved_before_the_modules_moved_loads_and_leaves_no_old_module(tiny_model_dir, tmp_path):
    import sys

    old = _as_saved_before_the_move(tiny_model_dir, tmp_path / "old")
    text = "We have two other quotes in hand, so there is no need to meet."
    assert negclass.load_model(old).classify(text) == negclass.load_model(tiny_model_dir).classify(text)
    assert not set(store.MOVED_MODULES) & set(sys.modules)
    # saved again, it names the new modules
    pipeline, meta = store.load(old)
    again = store.save(tmp_path / "again", pipeline, meta, store.read_json(old, store.METRICS), "card")
    import joblib
    assert type(joblib.load(again / store.PIPELINE).named_steps["clean"]).__module__ == "negclass.model.pipeline"
    with store.moved_modules():
        assert sys.modules["negclass.features"] is sys.modules["negclass.model.features"]
    assert "negclass.features" not in sys.modules


def test_a_pickle_naming_a_module_that_never_existed_is_a_model_error(tiny_model_dir, tmp_path):
    old = _as_saved_before_the_move(tiny_model_dir, tmp_path / "old")
    data = (old / store.PIPELINE).read_bytes().replace(b"cnegclass.features\n", b"cnegclass.nothere\n")
    (old / store.PIPELINE).write_bytes(data)
    manifest = json.loads((old / store.MANIFEST).read_text("utf-8"))
    manifest[store.PIPELINE] = store.sha256_file(old / store.PIPELINE)
    (old / store.MANIFEST).write_text(json.dumps(manifest), "utf-8")
    with pytest.raises(ModelError, match="No module named 'negclass.nothere'"):
        store.load(old)
