# Fois thesis Chapters 2-3 study: settings and helpers; used by fois_ch23.smk.

from mixopt.studies.fois_ch23_figures import ch23_figures
from mixopt.studies.fois_settings import RegSetting

CH23 = config["studies"]["fois_ch23"]
CH23_P = P["fois_ch23"]
REG_DIR = "data/simulated/fois_ch23"
GIRDLES = CH23["girdles"]["dataset"]
CH23_FIGURES = ch23_figures(CH23, CH23_P, RESULTS)  # mixopt.studies.fois_ch23_figures
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
