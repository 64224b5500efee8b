"""Method options are checked before a run: names against the fit function, numbers by range."""

from __future__ import annotations

import inspect
import math

import pytest

from mixopt.methods.base import METHODS, get_method
from mixopt.methods.options import (
    RANGES,
    OptionError,
    check_options,
    configured_options,
    method_options,
)
from mixopt.smk import check_finite_config, non_finite_keys


@pytest.mark.parametrize("method", sorted(METHODS))
def test_every_numeric_parameter_of_every_method_has_a_range(method):
    """A new numeric fit parameter needs a rule in mixopt.methods.options.RANGES."""
    params = inspect.signature(get_method(method)).parameters
    for name, kind in method_options(method).items():
        if kind.numeric:
            assert name in RANGES, f"{method}: numeric parameter {name!r} has no range rule"
            default = params[name].default
            if default is not None:   # the defaults themselves are valid
                check_options(method, {name: default})


def test_unknown_option_lists_the_valid_ones():
    with pytest.raises(OptionError, match=r"unknown option 'nonsense' for method em; valid "
                                          r"options: kmeans_n_init, kmeans_space, max_iter, tol$"):
        check_options("em", {"nonsense": 1, "max_iter": 5})
    with pytest.raises(OptionError, match="'seed'"):   # given separately, never as an option
        check_options("em", {"seed": 1})


@pytest.mark.parametrize(("method", "options", "message"), [
    ("em", {"max_iter": -1}, "em option max_iter must be an integer >= 1, got -1"),
    ("em", {"max_iter": 2.5}, "an integer"),
    ("em", {"max_iter": True}, "an integer"),
    ("em", {"tol": 0}, "tol must be a finite number > 0"),
    ("minlp", {"time_limit_s": math.nan}, "time_limit_s must be a finite number > 0, got nan"),
    ("exact", {"time_limit_s": math.inf}, "time_limit_s"),
    ("miqp", {"rel_gap": -1e-4}, "rel_gap must be a finite number >= 0"),
    ("slsqp", {"sort_start": "yes"}, "sort_start must be true or false"),
    ("em", {"kmeans_space": "pca"}, r"kmeans_space must be one of \['data', 'whitened'\]"),
    ("minlp", {"warm_start": "kmeans"}, "warm_start must be one of"),
    ("sa", {"max_iter": "10"}, "an integer"),
])
def test_bad_values_are_refused_naming_the_option(method, options, message):
    with pytest.raises(OptionError, match=message):
        check_options(method, options)


def test_valid_options_pass():
    check_options("em_restarts", {"restarts": None, "time_budget_s": 10, "score": "em"})
    check_options("minlp", {"warm_start": None, "time_limit_s": 3, "threads": 2})
    check_options("exact1d", {})


def test_configured_options_let_the_profile_and_then_the_study_win():
    """methods < the profile's method_overrides < the study's method_options, key by key."""
    config = {"profile": "quick",
              "methods": {"exact": {"cut_rounds": 0, "em_starts": 5, "rel_gap": 1e-4}},
              "profiles": {"quick": {"method_overrides": {"exact": {"em_starts": 2,
                                                                     "rel_gap": 1e-3}}},
                           "paper": {}}}
    study = {"exact": {"cut_rounds": 2}, "em": {"max_iter": 9}}
    assert configured_options(config, "exact") == {"cut_rounds": 0, "em_starts": 2,
                                                   "rel_gap": 1e-3}
    assert configured_options(config, "exact", study_options=study) == {
        "cut_rounds": 2, "em_starts": 2, "rel_gap": 1e-3}
    assert configured_options(config, "exact", config["profiles"]["paper"], study) == {
        "cut_rounds": 2, "em_starts": 5, "rel_gap": 1e-4}
    assert configured_options(config, "em", study_options=study) == {"max_iter": 9}
    assert config["methods"]["exact"]["cut_rounds"] == 0   # the configuration is not changed


def test_non_finite_numbers_in_the_config_are_named():
    config = {"profiles": {"quick": {"time_limit_s": math.nan, "seeds": [0, 1]}},
              "methods": {"em": {"tol": 1e-10}}, "x": [1.0, -math.inf]}
    assert non_finite_keys(config) == ["['profiles']['quick']['time_limit_s'] = nan",
                                       "['x'][1] = -inf"]
    with pytest.raises(ValueError, match=r"config\['profiles'\]\['quick'\]\['time_limit_s'\]"):
        check_finite_config(config)
    check_finite_config({"a": {"b": 1.5, "c": None, "d": "nan"}})

