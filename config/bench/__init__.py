"""`manage.py bench`: the benchmark's data set, its server settings and its measurements."""
