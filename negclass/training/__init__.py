"""Making models from labelled data: ``dataset`` (labelled and corrected scored files, duplicates),
``train`` (search, fit, measure, save), ``evaluate`` (metrics), ``baselines``, ``suggest`` (what
to label next) and ``retrain`` (train, compare with the default, promote)."""
