"""The figures of the Fois thesis Chapters 2-3 and the run records each one plots.

Shared by the workflow (``workflow/rules/fois_ch23_common.smk``) and ``mixopt plan``, so that
both enumerate the same jobs."""

from __future__ import annotations

from typing import Any

from mixopt.studies.fois_settings import RegSetting

NAMES = {"time_s": "computation time", "loglik": "log L-hat", "ari": "ARI"}


def reg_setting(ch23: dict[str, Any], k: int, p: int) -> str:
    """Name of the MixSimreg setting with ``k`` hyperplanes and ``p`` regressors."""
    sim = ch23["simulation"]
    return RegSetting(int(k), int(p), sim["n"], sim["bar_omega"]).name


def ch23_record(results: str, dataset: str, method: str, seed: int) -> str:
    """Record path of one Chapter 2-3 run."""
    return f"{results}/fois_ch23/{dataset}/{method}/seed{seed}.json"


def plotted_name(method_id: str) -> str:
    """Name of a method id in the figures: its base, `_sigmatrue` with the true sigma_min."""
    base = method_id.split("-")[0]
    return f"{base}_sigmatrue" if method_id.endswith("-sigmatrue") else base


def _fig2(ch23: dict[str, Any], reps: list[int], results: str) -> dict[str, dict[str, Any]]:
    f2 = ch23["fig2"]
    setting = reg_setting(ch23, f2["k"], f2["p"])
    group = f"k = {f2['k']}, p = {f2['p']}"
    members = [{"path": ch23_record(results, setting, m, it), "group": group,
                "method": plotted_name(m)} for m in f2["methods"] for it in reps]
    bases = [plotted_name(m) for m in f2["methods"]]
    common = {"members": members, "groups": [group], "group_label": "setting", "kind": "box"}
    return {"fig2_1": {**common, "quantity": "loglik", "methods": bases,
                       "title": f"Fig. 2.1: log L-hat, {setting}"},
            "fig2_2": {**common, "quantity": "time_s",
                       "methods": [b for b in bases if b != "oracle"],
                       "title": f"Fig. 2.2: computation time, {setting}"}}


def _fig3(ch23: dict[str, Any], profile: dict[str, Any], reps: list[int],
          results: str) -> dict[str, dict[str, Any]]:
    figs = {}
    for vary, sc in ch23["fig3"].items():
        values = profile.get("fig3_values", {}).get(vary, sc["values"])
        members = []
        for v in values:
            k = v if vary == "k" else sc["k"]
            p = v if vary == "p" else sc["p"]
            nsamp = v if vary == "nsamp" else sc["nsamp"]
            setting = reg_setting(ch23, k, p)
            ids = [f"pclustreg1-ns{nsamp}", f"pclustreg2-ns{nsamp}", f"tclustreg-ns{nsamp}",
                   "oracle"]
            if sc.get("sigma_true", False):
                ids += [f"pclustreg1-ns{nsamp}-sigmatrue", f"pclustreg2-ns{nsamp}-sigmatrue"]
            members += [{"path": ch23_record(results, setting, m, it), "group": v,
                         "method": plotted_name(m)} for m in ids for it in reps]
        fixed = ", ".join(f"{key} = {sc[key]}" for key in ("k", "p", "nsamp") if key in sc)
        label = "NS (nsamp)" if vary == "nsamp" else vary
        methods = ["pclustreg1", "pclustreg2"]
        if sc.get("sigma_true", False):
            methods += ["pclustreg1_sigmatrue", "pclustreg2_sigmatrue"]
        methods.append("tclustreg")
        for fig, quantity, meth in zip(
                sc["figures"], ("time_s", "loglik", "ari"),
                (methods, methods + ["oracle"], methods), strict=True):
            figs[fig] = {"members": members, "groups": values, "group_label": label,
                         "kind": "violin", "quantity": quantity, "methods": meth,
                         "title": f"Fig. {fig[3:].replace('_', '.')}: {NAMES[quantity]} as "
                                  f"{label} varies ({fixed}, n = {ch23['simulation']['n']})"}
    return figs


def _girdles(ch23: dict[str, Any], seeds: list[int], results: str) -> dict[str, dict[str, Any]]:
    figs = {}
    dataset = ch23["girdles"]["dataset"]
    for k, (fig_ll, fig_t) in ch23["girdles"]["figures"].items():
        members = []
        for name, sc in ch23["girdles"]["scenarios"].items():
            for base in ("pclustreg1", "pclustreg2", "tclustreg"):
                method = (f"tclustreg-ns{sc['nsamp']}" if base == "tclustreg"
                          else f"{base}-nl{sc['node_limit']}")
                members += [{"path": ch23_record(results, f"{dataset}-k{k}", method, s),
                             "group": name, "method": base} for s in seeds]
        common = {"members": members, "groups": list(ch23["girdles"]["scenarios"]),
                  "group_label": "scenario (A/B/C)", "kind": "box",
                  "methods": ["pclustreg1", "pclustreg2", "tclustreg"]}
        figs[fig_ll] = {**common, "quantity": "loglik",
                        "title": f"Fig. {fig_ll[3:].replace('_', '.')}: girdles, k = {k}, "
                                 "log L-hat"}
        figs[fig_t] = {**common, "quantity": "time_s",
                       "title": f"Fig. {fig_t[3:].replace('_', '.')}: girdles, k = {k}, time"}
    return figs


def ch23_figures(ch23: dict[str, Any], profile: dict[str, Any],
                 results: str) -> dict[str, dict[str, Any]]:
    """Figure name -> what it plots: quantity, plot kind, groups, methods and member records.

    ``ch23``: ``config["studies"]["fois_ch23"]``; ``profile``: the study profile's
    ``fois_ch23`` (replications, girdles seeds, values of Fig. 3); ``results``: the records'
    directory (``results/<profile>``)."""
    reps = list(range(1, profile["replications"] + 1))
    seeds = list(range(1, profile["girdles_seeds"] + 1))
    return {**_fig2(ch23, reps, results), **_fig3(ch23, profile, reps, results),
            **_girdles(ch23, seeds, results)}
