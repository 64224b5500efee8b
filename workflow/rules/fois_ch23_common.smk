# Fois thesis Chapters 2-3 study: settings and figure definitions; used by fois_ch23.smk.

from mixopt.studies.fois_settings import RegSetting

CH23 = config["studies"]["fois_ch23"]
CH23_P = P["fois_ch23"]
CH23_REPS = list(range(1, CH23_P["replications"] + 1))
GIRDLES_SEEDS = list(range(1, CH23_P["girdles_seeds"] + 1))
REG_DIR = "data/simulated/fois_ch23"
GIRDLES = CH23["girdles"]["dataset"]
NAMES = {"time_s": "computation time", "loglik": "log L-hat", "ari": "ARI"}


def reg_setting(k, p):
    return RegSetting(int(k), int(p), CH23["simulation"]["n"], CH23["simulation"]["bar_omega"]).name


def ch23_record(dataset, method, seed):
    return f"{RESULTS}/fois_ch23/{dataset}/{method}/seed{seed}.json"


def plotted_name(method_id):
    """Name of a method id in the figures: its base, `_sigmatrue` with the true sigma_min."""
    base = method_id.split("-")[0]
    return f"{base}_sigmatrue" if method_id.endswith("-sigmatrue") else base


def ch23_figures():
    """Figure name -> what it plots: quantity, plot kind, groups, methods and member records."""
    figs = {}
    f2 = CH23["fig2"]
    setting = reg_setting(f2["k"], f2["p"])
    group = f"k = {f2['k']}, p = {f2['p']}"
    members = [{"path": ch23_record(setting, m, it), "group": group, "method": plotted_name(m)}
               for m in f2["methods"] for it in CH23_REPS]
    bases = [plotted_name(m) for m in f2["methods"]]
    common = {"members": members, "groups": [group], "group_label": "setting", "kind": "box"}
    figs["fig2_1"] = {**common, "quantity": "loglik", "methods": bases,
                      "title": f"Fig. 2.1: log L-hat, {setting}"}
    figs["fig2_2"] = {**common, "quantity": "time_s",
                      "methods": [b for b in bases if b != "oracle"],
                      "title": f"Fig. 2.2: computation time, {setting}"}
    for vary, sc in CH23["fig3"].items():
        values = CH23_P.get("fig3_values", {}).get(vary, sc["values"])
        members = []
        for v in values:
            k = v if vary == "k" else sc["k"]
            p = v if vary == "p" else sc["p"]
            nsamp = v if vary == "nsamp" else sc["nsamp"]
            setting = reg_setting(k, p)
            ids = [f"pclustreg1-ns{nsamp}", f"pclustreg2-ns{nsamp}", f"tclustreg-ns{nsamp}",
                   "oracle"]
            if sc.get("sigma_true", False):
                ids += [f"pclustreg1-ns{nsamp}-sigmatrue", f"pclustreg2-ns{nsamp}-sigmatrue"]
            members += [{"path": ch23_record(setting, m, it), "group": v,
                         "method": plotted_name(m)} for m in ids for it in CH23_REPS]
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
                                  f"{label} varies ({fixed}, n = {CH23['simulation']['n']})"}
    for k, (fig_ll, fig_t) in CH23["girdles"]["figures"].items():
        members = []
        for name, sc in CH23["girdles"]["scenarios"].items():
            for base in ("pclustreg1", "pclustreg2", "tclustreg"):
                method = (f"tclustreg-ns{sc['nsamp']}" if base == "tclustreg"
                          else f"{base}-nl{sc['node_limit']}")
                members += [{"path": ch23_record(f"{GIRDLES}-k{k}", method, s), "group": name,
                             "method": base} for s in GIRDLES_SEEDS]
        common = {"members": members, "groups": list(CH23["girdles"]["scenarios"]),
                  "group_label": "scenario (A/B/C)", "kind": "box",
                  "methods": ["pclustreg1", "pclustreg2", "tclustreg"]}
        figs[fig_ll] = {**common, "quantity": "loglik",
                        "title": f"Fig. {fig_ll[3:].replace('_', '.')}: girdles, k = {k}, log L-hat"}
        figs[fig_t] = {**common, "quantity": "time_s",
                       "title": f"Fig. {fig_t[3:].replace('_', '.')}: girdles, k = {k}, time"}
    return figs


CH23_FIGURES = ch23_figures()
CH23_SETTINGS = sorted({m["path"].split("/")[-3] for f in CH23_FIGURES.values()
                        for m in f["members"] if not m["path"].split("/")[-3].startswith(GIRDLES)})


def thesis_figure(wc):
    """Report label of a Chapter 2-3 figure: fig3_10 -> Fig. 3.10."""
    return f"Fig. {wc.fig[3:].replace('_', '.')}"


def thesis_chapter(wc):
    """Report subcategory of a Chapter 2-3 figure."""
    return f"Ch. {wc.fig[3]}: pclustreg"


def ch23_inputs(wc):
    if wc.dataset.startswith(f"{GIRDLES}-k"):
        stem = f"{PROC_DIR}/{GIRDLES}"
    else:
        stem = f"{REG_DIR}/{wc.dataset}/seed{wc.seed}"
    return {"csv": f"{stem}.csv", "meta": f"{stem}.json"}


def ch23_spec(wc):
    if wc.dataset.startswith(f"{GIRDLES}-k"):
        k = int(wc.dataset.split("-k")[1])
    else:
        k = RegSetting.from_name(wc.dataset).k
    return {"study": "fois_ch23", "dataset": wc.dataset, "method": wc.method,
            "seed": int(wc.seed), "k": k, "options": dict(CH23["pclustreg"])}
