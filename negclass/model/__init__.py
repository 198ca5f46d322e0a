"""The model: featurise, predict, explain and attach tactics.

``features`` (spaCy lemmas, cue matches, vectorisers), ``estimator`` (the calibrated reason and
signal classifier) and ``pipeline`` (the whole saved model, cleaning included) make the
scikit-learn pipeline; ``predict`` loads a model directory and classifies texts with evidence and
the tactics of ``playbook``; ``taxonomy`` is the label set; ``store`` and ``registry`` keep model
directories on disk, ``card`` writes their model card.
"""
