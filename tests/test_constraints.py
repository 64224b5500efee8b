import itertools
import json

import numpy as np
import pytest
from workflow_utils import CONFIGS

from mixopt.constraints import (
    Constraints,
    ConstraintSpecError,
    InfeasibleConstraintsError,
    SetConstraint,
    load_constraints,
)
from mixopt.methods.map.formulations import add_side_constraints
from mixopt.objectives import one_hot

EXAMPLE_YAML = (CONFIGS / "constraints_example.yaml").read_text()


def test_yaml_file_is_parsed(tmp_path):
    path = tmp_path / "cons.yaml"
    path.write_text(EXAMPLE_YAML)
    c = load_constraints(path)
    assert c.min_size == 1 and c.pi_order is False
    assert c.must_link == ((0, 5), (3, 4))
    assert c.cannot_link == ((1, 2),)
    assert c.implies == ((7, 8),)
    assert c.packing == (SetConstraint((0, 1, 2), 0, 1),)
    assert c.partition == (SetConstraint((3, 4, 6), 1, 2),)
    assert c.cover == (SetConstraint((6, 7, 8), 2, 1),)
    assert c.known_labels == ((0, 1), (12, 0))
    np.testing.assert_array_equal(c.mu_lower, [-1.0, -2.0])
    assert float(c.mu_upper) == 5.0
    assert c.names_components
    c.validate(n=13, k=3, d=2)  # consistent


def test_round_trip_json_equality_and_hash():
    c = Constraints.from_dict({**Constraints.paper_defaults().to_dict(), "pi_order": False,
                               "known_labels": [[2, 1]], "must_link": [[0, 1]],
                               "mu_bounds": {"lower": [[0.0], [1.0]], "upper": None}})
    text = json.dumps(c.to_dict())
    back = Constraints.from_dict(json.loads(text))
    assert back == c and hash(back) == hash(c)
    assert back != Constraints.none()
    assert Constraints.none().is_empty and Constraints.from_dict(None).is_empty
    assert Constraints.paper_defaults() == Constraints(min_size=1, pi_order=True)
    assert back.names_components  # component-specific mu bounds and known labels


def test_empty_yaml_means_no_constraints(tmp_path):
    path = tmp_path / "empty.yaml"
    path.write_text("")
    assert load_constraints(path) == Constraints.none()


@pytest.mark.parametrize(
    ("spec", "match"),
    [
        ({"foo": 1}, r"unknown constraint key\(s\) \['foo'\]"),
        ({"must_link": [[0]]}, r"must_link\[0\]: expected a pair"),
        ({"cannot_link": [[0, "a"]]}, r"cannot_link\[0\]\[1\]: expected an integer"),
        ({"implies": 3}, r"implies: expected a list"),
        ({"packing": [{"points": [0, 1], "component": 0}]}, r"packing\[0\].*missing.*at_most"),
        ({"cover": [{"points": [0, 1], "component": 0, "at_most": 1}]},
         r"cover\[0\]: unknown keys \['at_most'\]"),
        ({"partition": [{"points": [0, 0], "component": 0, "exactly": 1}]},
         r"partition\[0\]\.points: duplicated"),
        ({"known_labels": {0: "a"}}, r"known_labels\[0\]\[1\]"),
        ({"known_labels": [[0, 1, 2]]}, r"known_labels\[0\]"),
        ({"mu_bounds": {"low": 0}}, r"mu_bounds"),
        ({"mu_bounds": {"lower": "x"}}, r"mu_bounds\.lower"),
        ({"pi_order": "yes"}, r"pi_order"),
        ({"min_size": -1}, r"min_size"),
        ({"min_size": 1.5}, r"min_size"),
        ([1, 2], r"expected a mapping"),
    ],
)
def test_malformed_specs_name_the_key(spec, match):
    with pytest.raises(ConstraintSpecError, match=match):
        Constraints.from_dict(spec)


def test_file_errors_name_the_file(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("must_link: [[0, 1, 2]]\n")
    with pytest.raises(ConstraintSpecError, match=r"bad\.yaml: must_link\[0\]"):
        load_constraints(path)


def sc(points, component, count):
    return SetConstraint(tuple(points), component, count)


# (constraints, n, k, regex the message must match)
CONTRADICTIONS = [
    (Constraints(must_link=((0, 10),)), 6, 2, r"must_link\[0\] \(0, 10\): point index 10"),
    (Constraints(known_labels=((0, 3),)), 6, 2, r"known_labels 0 -> 3: component 3"),
    (Constraints(cover=(sc([0, 1], 2, 1),)), 6, 2, r"cover\[0\].*component 2 is outside"),
    (Constraints(packing=(sc([0, 9], 0, 1),)), 6, 2, r"packing\[0\].*point indices \[9\]"),
    (Constraints(must_link=((0, 1),), cannot_link=((0, 1),)), 6, 2,
     r"cannot_link \(0, 1\) contradicts must_link \(0, 1\)"),
    (Constraints(must_link=((0, 1), (2, 1)), cannot_link=((0, 2),)), 6, 2,
     r"cannot_link \(0, 2\) contradicts must_link \(0, 1\), must_link \(2, 1\)"),
    (Constraints(implies=((3, 4),), cannot_link=((4, 3),)), 6, 2,
     r"cannot_link \(4, 3\) contradicts implies \(3 -> 4\)"),
    (Constraints(cannot_link=((2, 2),)), 6, 2, r"cannot_link \(2, 2\)"),
    (Constraints(cannot_link=((1, 2),)), 6, 1, r"cannot_link \(1, 2\) needs two components"),
    (Constraints(min_size=4), 6, 2, r"min_size 4 .* K = 2 .* needs 8 points, but n = 6"),
    (Constraints(must_link=((0, 1),), known_labels=((0, 0), (1, 1))), 6, 2,
     r"known_labels 0 -> 0 and 1 -> 1 disagree via must_link \(0, 1\)"),
    (Constraints(known_labels=((0, 0), (0, 1))), 6, 2, r"known_labels 0 -> 0 and 0 -> 1"),
    (Constraints(cannot_link=((0, 1),), known_labels=((0, 1), (1, 1))), 6, 2,
     r"cannot_link \(0, 1\) contradicts known labels putting both in component 1"),
    (Constraints(implies=((2, 3),), known_labels=((2, 0), (3, 1))), 6, 2,
     r"known_labels 2 -> 0 and 3 -> 1 disagree via implies \(2 -> 3\)"),
    (Constraints(packing=(sc([0, 1, 2], 0, 1),), known_labels=((0, 0), (1, 0))), 6, 2,
     r"packing\[0\] .*at_most 1\): known labels already put 2 of its points in component 0"),
    (Constraints(packing=(sc([0, 1], 0, -1),)), 6, 2, r"packing\[0\].*count must be >= 0"),
    (Constraints(partition=(sc([0, 1, 2], 1, 4),)), 6, 2, r"partition\[0\].*only 3 points"),
    (Constraints(partition=(sc([0, 1, 2], 1, 1),), known_labels=((0, 1), (2, 1))), 6, 2,
     r"partition\[0\].*already put 2"),
    (Constraints(cover=(sc([0, 1], 1, 3),)), 6, 2, r"cover\[0\].*only 2 points"),
    (Constraints(cover=(sc([0, 1], 1, 2),), known_labels=((1, 0),)), 6, 2,
     r"cover\[0\].*put 1 of its 2 points in other components"),
    (Constraints(mu_lower=np.array([0.0, 1.0]), mu_upper=np.array([1.0, 0.5])), 6, 2,
     r"mu_bounds: lower 1\.0 > upper 0\.5 for mu\[0, 1\]"),
    (Constraints(mu_lower=np.zeros(3)), 6, 2, r"mu_bounds\.lower has shape \(3,\)"),
    (Constraints(pi_order=True, known_labels=((0, 1),)), 6, 2,
     r"pi_order combined with known_labels.*symmetry.*pi_order: false"),
    (Constraints(pi_order=True, cover=(sc([0], 1, 1),)), 6, 2, r"pi_order combined with cover"),
    (Constraints(min_size=1, must_link=((0, 1), (1, 2), (3, 4), (4, 5), (5, 0))), 6, 2,
     r"only 1 groups of points"),
]


@pytest.mark.parametrize(("cons", "n", "k", "match"), CONTRADICTIONS)
def test_contradictions_are_rejected_before_solving(cons, n, k, match):
    with pytest.raises(InfeasibleConstraintsError, match=match):
        cons.validate(n=n, k=k, d=2)


def test_all_contradictions_reported_together():
    cons = Constraints(min_size=5, cannot_link=((1, 1),), must_link=((0, 2),),
                       known_labels=((0, 0), (2, 1)))
    with pytest.raises(InfeasibleConstraintsError) as err:
        cons.validate(n=6, k=2, d=1)
    msg = str(err.value)
    assert "min_size" in msg and "cannot_link (1, 1)" in msg and "disagree" in msg


def test_consistent_constraints_pass_and_propagate_labels():
    cons = Constraints(min_size=1, must_link=((0, 1),), implies=((2, 1),),
                       known_labels=((0, 1),), cannot_link=((0, 3),))
    cons.validate(n=6, k=2, d=1)
    assert cons.fixed_labels(6) == {0: 1, 1: 1, 2: 1}
    Constraints.paper_defaults().validate(n=6, k=3, d=1)


# Per constraint type: (constraints, feasible labels, infeasible labels), n = 7, K = 3; min_size 0
# (empty clusters allowed) so that each case exercises its own constraint type only.
CASES = {
    "min_size": (Constraints(min_size=2), [0, 0, 1, 1, 2, 2, 0], [0, 0, 0, 1, 1, 2, 0]),
    "must_link": (Constraints(min_size=0, must_link=((0, 5),)), [1, 0, 0, 2, 2, 1, 0],
                  [1, 0, 0, 2, 2, 2, 0]),
    "cannot_link": (Constraints(min_size=0, cannot_link=((1, 2),)), [0, 0, 1, 1, 2, 2, 0],
                    [0, 1, 1, 1, 2, 2, 0]),
    "implies": (Constraints(min_size=0, implies=((3, 6),)), [0, 0, 1, 2, 2, 1, 2],
                [0, 0, 1, 2, 2, 1, 1]),
    "packing": (Constraints(min_size=0, packing=(sc([0, 1, 2], 0, 1),)), [0, 1, 2, 0, 0, 0, 0],
                [0, 0, 2, 1, 1, 1, 1]),
    "partition": (Constraints(min_size=0, partition=(sc([2, 4, 5], 1, 2),)), [0, 0, 1, 0, 2, 1, 0],
                  [0, 0, 1, 0, 1, 1, 0]),
    "cover": (Constraints(min_size=0, cover=(sc([4, 5, 6], 2, 1),)), [0, 0, 0, 0, 0, 0, 2],
              [0, 0, 0, 0, 1, 1, 1]),
    "known_labels": (Constraints(min_size=0, known_labels=((6, 2), (0, 1))), [1, 0, 0, 0, 0, 0, 2],
                     [1, 0, 0, 0, 0, 0, 0]),
}
N7, K3 = 7, 3


@pytest.mark.parametrize("kind", sorted(CASES))
def test_violations_detect_each_type(kind):
    cons, good, bad = CASES[kind]
    cons.validate(N7, K3, 1)
    assert cons.violations(np.array(good), K3) == []
    found = cons.violations(np.array(bad), K3)
    assert found and all(v.startswith(kind) for v in found), found


def test_violations_of_mu_bounds_and_pi_order():
    cons = Constraints(pi_order=True, mu_lower=np.array(0.0), mu_upper=np.array([1.0, 2.0]))
    labels = np.array([0, 1, 1])
    assert cons.violations(labels, 2, mu=[[0.5, 1.5], [1.0, 0.0]], pi=[0.3, 0.7]) == []
    found = cons.violations(labels, 2, mu=[[0.5, 2.5], [-1.0, 0.0]], pi=[0.7, 0.3])
    assert len(found) == 3
    assert any("mu[0, 1] = 2.5" in v for v in found)
    assert any("mu[1, 0] = -1" in v for v in found)
    assert any(v.startswith("pi_order: pi[0] = 0.7 > pi[1] = 0.3") for v in found)


def test_violations_report_bad_labels():
    assert Constraints().violations(np.array([0, 3]), 2) == ["labels outside 0..1"]
    assert "outside" in Constraints(must_link=((0, 9),)).violations(np.array([0, 1]), 2)[0]


def combined() -> Constraints:
    cases = [c for c, _, _ in CASES.values()]
    merged: dict = {}
    for c in cases:
        for key, value in c.to_dict().items():
            if isinstance(value, list) and value:
                merged.setdefault(key, []).extend(value)
    return Constraints.from_dict({**merged, "min_size": 1})


def satisfies(system, labels, k):
    a_eq, b_eq, a_ub, b_ub = system
    z = one_hot(labels, k).ravel()
    return bool(np.allclose(a_eq @ z, b_eq) and np.all(a_ub @ z <= b_ub + 1e-12))


def test_linear_system_agrees_with_violations_on_every_assignment():
    cons = combined()
    cons.validate(N7, K3, 1)
    system = cons.linear_system(N7, K3)
    assert system[0].shape[1] == N7 * K3 and system[2].shape[1] == N7 * K3
    n_feasible = 0
    for labels in itertools.product(range(K3), repeat=N7):
        lab = np.array(labels)
        ok = not cons.violations(lab, K3)
        assert satisfies(system, lab, K3) == ok, (labels, cons.violations(lab, K3))
        n_feasible += ok
    assert 0 < n_feasible < K3**N7


@pytest.mark.parametrize("kind", sorted(CASES))
def test_linear_system_per_type(kind):
    cons, good, bad = CASES[kind]
    system = cons.linear_system(N7, K3)
    assert satisfies(system, np.array(good), K3)
    assert not satisfies(system, np.array(bad), K3)


def test_linear_system_rows_sum_to_one():
    _, _, a_ub, b_ub = Constraints.none().linear_system(3, 2)
    # the default model (K non-empty clusters): -sum_i z_ik <= -1 for every k
    np.testing.assert_array_equal(a_ub.toarray(), -np.kron(np.ones((1, 3)), np.eye(2)))
    np.testing.assert_array_equal(b_ub, -np.ones(2))
    a_eq, b_eq, a_ub, b_ub = Constraints(min_size=0).linear_system(3, 2)
    np.testing.assert_array_equal(a_eq.toarray(), np.kron(np.eye(3), np.ones((1, 2))))
    np.testing.assert_array_equal(b_eq, np.ones(3))
    assert a_ub.shape == (0, 6) and b_ub.shape == (0,)
    z = np.array([[0.5, 0.5], [1, 0], [0, 1]]).ravel()  # fractional rows still sum to one
    np.testing.assert_allclose(a_eq @ z, b_eq)


# --- Pyomo + HiGHS -------------------------------------------------------------------------

pyo = pytest.importorskip("pyomo.environ")

Y6 = np.array([[0.0], [0.2], [0.4], [3.0], [3.2], [3.4]])
PYOMO_CASES = {
    "must_link": (Constraints(must_link=((0, 5),)), [0, 0, 0, 1, 1, 1]),
    "cannot_link": (Constraints(cannot_link=((0, 1),)), [0, 0, 0, 1, 1, 1]),
    "implies": (Constraints(implies=((2, 3),)), [0, 0, 0, 1, 1, 1]),
    "packing": (Constraints(packing=(sc([0, 1, 2], 0, 1),)), [0, 0, 0, 1, 1, 1]),
    "partition": (Constraints(partition=(sc([0, 1, 2, 3], 1, 2),)), [0, 0, 0, 1, 1, 1]),
    "cover": (Constraints(cover=(sc([0, 1], 1, 2),)), [0, 0, 0, 1, 1, 1]),
    "known_labels": (Constraints(known_labels=((0, 1),)), [0, 0, 0, 1, 1, 1]),
    "min_size": (Constraints(min_size=2), [0, 0, 0, 0, 0, 1]),
    "pi_order": (Constraints(pi_order=True), [0, 0, 0, 1, 1, 1]),
    "mu_bounds": (Constraints(mu_lower=np.array([[0.5], [3.1]]), mu_upper=np.array(3.3)),
                  [0, 0, 0, 1, 1, 1]),
}


def solve_tiny(cons: Constraints, preferred: list[int]):
    """Linear MIP: prefer ``preferred`` labels, pull mu down and pi_0 up; side constraints on."""
    n, k, d = Y6.shape[0], 2, 1
    m = pyo.ConcreteModel()
    m.z = pyo.Var(range(n), range(k), domain=pyo.Binary)
    m.mu = pyo.Var(range(k), range(d), bounds=(float(Y6.min()), float(Y6.max())))
    m.pi = pyo.Var(range(k), bounds=(0.0, 1.0))
    m.assign = pyo.Constraint(range(n), rule=lambda m, i: sum(m.z[i, c] for c in range(k)) == 1)
    m.simplex = pyo.Constraint(expr=sum(m.pi[c] for c in range(k)) == 1)
    m.obj = pyo.Objective(expr=sum((0.0 if c == preferred[i] else 1.0) * m.z[i, c]
                                   for i in range(n) for c in range(k))
                          + 0.01 * sum(m.mu[c, 0] for c in range(k)) - 0.01 * m.pi[0])
    add_side_constraints(cons, m, m.z, m.mu, m.pi, n, k, d)
    res = pyo.SolverFactory("highs").solve(m)
    assert pyo.check_optimal_termination(res)
    z = np.array([[pyo.value(m.z[i, c]) for c in range(k)] for i in range(n)])
    mu = np.array([[pyo.value(m.mu[c, 0])] for c in range(k)])
    pi = np.array([pyo.value(m.pi[c]) for c in range(k)])
    return m, np.argmax(z, axis=1), mu, pi


@pytest.mark.parametrize("kind", sorted(PYOMO_CASES))
def test_add_side_constraints_with_highs(kind):
    cons, preferred = PYOMO_CASES[kind]
    _, lab0, mu0, pi0 = solve_tiny(Constraints.none(), preferred)
    assert cons.violations(lab0, 2, mu0, pi0, tol=1e-6)  # the constraint binds
    m, lab, mu, pi = solve_tiny(cons, preferred)
    assert cons.violations(lab, 2, mu, pi, tol=1e-6) == []
    assert isinstance(m.side_constraints, pyo.Block)
    if kind == "known_labels":
        assert m.z[0, 1].fixed and m.z[0, 0].fixed and pyo.value(m.z[0, 0]) == 0
    elif kind == "mu_bounds":
        assert m.mu[0, 0].lb == 0.5 and m.mu[1, 0].lb == 3.1 and m.mu[0, 0].ub == 3.3
    else:
        assert m.side_constraints.component(kind) is not None


def test_add_side_constraints_rejects_contradictions_and_reuse():
    m = pyo.ConcreteModel()
    m.z = pyo.Var(range(6), range(2), domain=pyo.Binary)
    m.mu = pyo.Var(range(2), range(1))
    m.pi = pyo.Var(range(2))
    with pytest.raises(InfeasibleConstraintsError, match="cannot_link"):
        add_side_constraints(Constraints(must_link=((0, 1),), cannot_link=((1, 0),)), m, m.z,
                             m.mu, m.pi, 6, 2, 1)
    m2 = pyo.ConcreteModel()
    m2.z = pyo.Var(range(6), range(2), domain=pyo.Binary)
    m2.mu = pyo.Var(range(2), range(1), bounds=(0.0, 1.0))
    m2.pi = pyo.Var(range(2))
    with pytest.raises(InfeasibleConstraintsError, match=r"mu\[0, 0\]"):
        add_side_constraints(Constraints(mu_lower=np.array(2.0)), m2, m2.z, m2.mu, m2.pi, 6, 2,
                             1)
