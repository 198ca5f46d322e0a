"""registry: where models live, which one is the default, switching and rolling back, the listing."""
from __future__ import annotations

import datetime as dt
import json
import shutil

import pytest

from negclass.errors import ModelError, NegclassError
from negclass.model import registry, store


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("NEGCLASS_HOME", str(tmp_path))
    monkeypatch.delenv("NEGCLASS_MODEL", raising=False)
    return tmp_path


@pytest.fixture
def register(home, tiny_model_dir):
    """Copy the tiny model into the registry under a name, optionally with another creation time."""
    def add(name: str, created: str | None = None):
        path = registry.models_dir() / name
        shutil.copytree(tiny_model_dir, path)
        if created is not None:
            meta = json.loads((path / store.META).read_text())
            meta["created"] = created
            (path / store.META).write_text(json.dumps(meta))
            manifest = json.loads((path / store.MANIFEST).read_text())
            manifest[store.META] = store.sha256_file(path / store.META)
            (path / store.MANIFEST).write_text(json.dumps(manifest))
        return path
    return add


def test_home_is_negclass_home_or_the_user_data_directory(tmp_path, monkeypatch):
    import platformdirs

    monkeypatch.setenv("NEGCLASS_HOME", "~/somewhere")
    assert registry.home() == tmp_path.home() / "somewhere"
    monkeypatch.delenv("NEGCLASS_HOME")
    monkeypatch.setattr(platformdirs, "user_data_dir", lambda app, appauthor=None: str(tmp_path / app))
    assert registry.home() == tmp_path / "negclass"
    assert registry.models_dir() == tmp_path / "negclass" / "models"


def test_pointer_names_and_overrides(home, register, tiny_model_dir, monkeypatch):
    assert registry.default_name() == registry.SHIPPED
    assert registry.default_model_dir() == store.shipped_model_dir()
    for name in ("a", "b"):
        register(name)
    with pytest.raises(NegclassError, match="no previous default"):
        registry.rollback()
    assert registry.use("a") == ("a", registry.SHIPPED)
    assert registry.use("b") == ("b", "a")
    assert registry.default_model_dir() == registry.models_dir() / "b"
    assert registry.rollback() == ("a", "b")
    assert json.loads((home / registry.POINTER).read_text()) == {"default": "a", "previous": "b"}
    monkeypatch.setenv("NEGCLASS_MODEL", "b")        # a registered name ...
    assert registry.default_model_dir() == registry.models_dir() / "b"
    monkeypatch.setenv("NEGCLASS_MODEL", str(tiny_model_dir))  # ... or a directory
    assert registry.default_model_dir() == tiny_model_dir
    monkeypatch.delenv("NEGCLASS_MODEL")
    with pytest.raises(NegclassError, match="no model named 'absent'"):
        registry.use("absent")
    shutil.rmtree(registry.models_dir() / "a")
    with pytest.raises(ModelError, match="default model 'a' is missing"):
        registry.default_model_dir()
    (home / registry.POINTER).write_text("{oops")
    with pytest.raises(ModelError, match="corrupt; delete it"):
        registry.default_name()


@pytest.mark.parametrize("bad", ["../x", ".hidden", "shipped", "a b", "", "x/y", "a" * 65, "-dash"])
def test_bad_names_are_refused_with_the_rule(bad):
    with pytest.raises(NegclassError, match="bad model name .*letters, digits"):
        registry.check_name(bad)


@pytest.mark.parametrize("good", ["a", "20260126-141503", "mine.v2", "A_b-c", "a" * 64])
def test_good_names_pass(good):
    assert registry.check_name(good) == good


def test_resolve_takes_a_path_a_registered_name_or_shipped(home, register, tmp_path):
    register("mine")
    assert registry.resolve("mine") == registry.models_dir() / "mine"
    assert registry.resolve(registry.SHIPPED) == store.shipped_model_dir()
    assert registry.resolve(str(tmp_path)) == tmp_path                       # an existing directory
    assert registry.resolve("elsewhere/model") == registry.Path("elsewhere/model")  # a path, even if absent
    assert registry.resolve("unknown") == registry.Path("unknown")           # not registered: taken as a path


def test_new_names_come_from_the_utc_time_and_never_collide(home, monkeypatch):
    class Clock(dt.datetime):
        @classmethod
        def now(cls, tz=None):
            return dt.datetime(2026, 1, 26, 14, 15, 3, tzinfo=tz)

    monkeypatch.setattr(registry._dt, "datetime", Clock)
    assert registry.new_name() == "20260126-141503"
    (registry.models_dir() / "20260126-141503").mkdir(parents=True)
    assert registry.new_name() == "20260126-141503-2"
    (registry.models_dir() / "20260126-141503-2").mkdir()
    assert registry.new_name() == "20260126-141503-3"
    assert registry.new_name("try-") == "try-20260126-141503"


def test_using_the_default_again_keeps_the_previous_one(home, register):
    register("a")
    register("b")
    registry.use("a")
    registry.use("b")
    assert registry.use("b") == ("b", "a")
    assert json.loads((home / registry.POINTER).read_text()) == {"default": "b", "previous": "a"}
    assert registry.use(registry.SHIPPED) == (registry.SHIPPED, "b")


def test_a_tampered_model_is_not_made_the_default(home, register):
    register("good")
    bad = register("bad")
    registry.use("good")
    before = (home / registry.POINTER).read_text()
    with open(bad / store.PIPELINE, "ab") as fh:
        fh.write(b"\x00")
    with pytest.raises(ModelError, match="pipeline.joblib does not match its checksum"):
        registry.use("bad")
    assert (home / registry.POINTER).read_text() == before


def test_rollback_to_a_deleted_model_says_so_and_changes_nothing(home, register):
    register("a")
    register("b")
    registry.use("a")
    registry.use("b")
    shutil.rmtree(registry.models_dir() / "a")
    before = (home / registry.POINTER).read_text()
    with pytest.raises(NegclassError, match="the previous default 'a' no longer exists"):
        registry.rollback()
    assert (home / registry.POINTER).read_text() == before


def test_pointer_write_failure_keeps_the_old_default(home, register, monkeypatch):
    for name in ("a", "b"):
        register(name)
    registry.use("a")
    before = (home / registry.POINTER).read_text()

    def boom(*a, **k):
        raise OSError("disk full")

    monkeypatch.setattr("os.replace", boom)
    with pytest.raises(OSError, match="disk full"):
        registry.use("b")
    assert (home / registry.POINTER).read_text() == before
    assert sorted(p.name for p in home.iterdir()) == [registry.POINTER, "models"]  # no temporary file left


def test_entries_list_shipped_first_then_by_creation_with_marks_and_problems(home, register):
    register("zeta", created="2026-01-01T00:00:00+00:00")
    register("alpha", created="2026-03-01T00:00:00+00:00")
    broken = register("broken", created="2026-02-01T00:00:00+00:00")
    (registry.models_dir() / ".tmp-half-written").mkdir()     # a training run in progress is not listed
    registry.use("zeta")
    registry.use("alpha")
    (broken / store.METRICS).write_text("{}")
    entries = registry.entries()
    assert [e.name for e in entries] == [registry.SHIPPED, "zeta", "broken", "alpha"]
    by_name = {e.name: e for e in entries}
    assert by_name["alpha"].default and not by_name["alpha"].previous
    assert by_name["zeta"].previous and not by_name["zeta"].default
    assert not by_name[registry.SHIPPED].default
    assert "metrics.json does not match its checksum" in by_name["broken"].problem
    assert by_name["alpha"].problem is None and by_name[registry.SHIPPED].problem is None
    tiny = store.read_json(registry.models_dir() / "alpha", store.META)
    assert by_name["alpha"].train_examples == tiny["data"]["train"]["examples"]
    assert by_name["alpha"].to_dict()["path"] == str(registry.models_dir() / "alpha")
    json.dumps([e.to_dict() for e in entries])   # what 'negclass models --json' prints


def test_an_unreadable_meta_file_is_a_problem_in_the_listing_not_a_crash(home, register):
    path = register("odd")
    (path / store.META).write_text("not json")
    (entry,) = [e for e in registry.entries() if e.name == "odd"]
    assert entry.problem and entry.problem.startswith("unreadable:")
    assert entry.created is None and entry.heldout_macro_f1 is None
