"""Training the learned scorer: reading labelled sources and fitting the model (needs the train extra).

This package sits above :mod:`postguard.checks`: it uses the checker (its
patterns, its normalisation and sentence split) to prepare examples exactly as
they are seen at run time, and writes a model file that
:mod:`postguard.checks.model.inference` reads. Nothing in ``checks`` imports it.
"""
