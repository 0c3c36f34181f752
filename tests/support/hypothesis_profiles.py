"""Hypothesis settings profiles. `ci` (the default) bounds every property test to a fixed number of
examples and no per-example deadline (a shared 2-core machine makes timings noise); `long` is for a
fuzzing session by hand:

    LIANBAN_HYPOTHESIS_PROFILE=long LIANBAN_FUZZ_EXAMPLES=200 .venv/bin/python -m pytest tests/properties
"""
import os

from hypothesis import HealthCheck, settings

# Function-scoped fixtures (a database per test) are shared by the examples of one test on purpose:
# each example is idempotent against it, and a database per example would cost a copy each.
_COMMON = {"deadline": None, "suppress_health_check": [HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
           "print_blob": True}
settings.register_profile("ci", max_examples=60, **_COMMON)
settings.register_profile("long", max_examples=1000, **_COMMON)
settings.load_profile(os.environ.get("LIANBAN_HYPOTHESIS_PROFILE", "ci"))
