"""scripts/real_mail_report.py: recording the test set's figures rewrites the card, not the model."""
import json
import shutil

import negclass
from negclass.model import store
from negclass.training import dataset
from tests.conftest import FIXTURES, load_script


def test_record_test_writes_the_measured_block_and_keeps_the_pipeline(tiny_model_dir, tmp_path):
    report = load_script("real_mail_report")
    model_dir = tmp_path / "tiny"
    shutil.copytree(tiny_model_dir, model_dir)
    pipeline_before = (model_dir / "pipeline.joblib").read_bytes()
    frame = dataset.load([FIXTURES / "labelled.jsonl"]).head(12)
    model = negclass.load_model(model_dir)
    results = list(model.classify_many(frame["text"].tolist(), explain=False))
    report.record_test(model_dir, frame, results, "real-test")

    store.verify(model_dir)  # the manifest matches the rewritten files
    block = json.loads((model_dir / "metrics.json").read_text("utf-8"))["real-test"]
    assert block["model"]["n"] == 12
    assert block["majority"]["refusal_recall"] == 0.0
    assert block["model"]["accuracy"] == sum(r.reason == y for r, y in zip(results, frame["reason"])) / 12
    assert "(12 examples)" in (model_dir / "MODEL_CARD.md").read_text("utf-8")
    assert (model_dir / "pipeline.joblib").read_bytes() == pipeline_before
