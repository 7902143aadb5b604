"""What the model versions room reads: the recent versions with their lift over the best baseline and
whether they can be served, the served version's quality table, NDCG across versions, running trainings."""

from django.conf import settings

from core.models import Job
from core.selectors import job_list_unfinished
from recommender import selectors as recommender_selectors
from recommender.models import ModelVersion
from recommender.selectors import NEW_ITEM_WEIGHT_AUTO

# The versions staff may serve from the page once they are scored: a ready one, a retired one (a roll
# back), or one the quality gate or the switch rejected (served by an operator's decision).
ACTIVATABLE = (ModelVersion.Status.READY, ModelVersion.Status.RETIRED, ModelVersion.Status.REJECTED)
# What a version's chosen weight's lists beat on its held-out month (``recommender.ml.discovery``).
BAR_WORDS = {
    "popular_both": "beat Popular's list and its never-bought ranking",
    "popular_served_list": "beat Popular's list, not its never-bought ranking",
    None: "no weight beat Popular's list by the margin",
}


def served_lists_summary(model_version: ModelVersion) -> str | None:
    """The settings the version's stored lists were cut and ordered by (``ModelVersion.served_lists``,
    kept when its scoring began), in a few words; None for a version scored before they were kept."""
    lists = model_version.served_lists
    if not lists:
        return None
    words = [f"top {lists['top_n']}"]
    if not lists["allow_bought"]:
        words.append("never-bought only")
    elif lists["min_new_items"]:
        words.append(f"at least {lists['min_new_items']} never-bought")
    weight, chosen = lists["new_item_weight"], model_version.chosen_new_item_weight
    if weight != 1:
        words.append(f"never-bought weighted x{weight:g}")
    staff_set = model_version.new_item_weight_set
    if staff_set and staff_set["weight"] == weight and lists["allow_bought"]:
        # set from this room (RECOMMENDER_NEW_ITEM_WEIGHT "auto")
        by = f" by {staff_set['by']}" if staff_set.get("by") else ""
        words.append(f"set{by}, its training chose x{chosen:g}" if chosen is not None else f"set{by}")
    elif chosen is not None and lists["allow_bought"]:
        # the weight its training chose (RECOMMENDER_NEW_ITEM_WEIGHT "auto") and what its lists beat
        # there, or that a number overrode it
        if chosen == weight:
            choice = model_version.new_item_weight_choice
            beat = f" ({BAR_WORDS[choice['bar_reached']]})" if "bar_reached" in choice else ""
            words.append("the weight its training chose" + beat)
        else:
            words.append(f"its training chose x{chosen:g}")
    if lists["max_per_category"]:
        words.append(f"at most {lists['max_per_category']} a category")
    if not lists["explanations"]:
        words.append("no explanations")
    return ", ".join(words)


def new_item_weight_choice_table(model_version: ModelVersion | None) -> dict | None:
    """How the version's training chose its weight of never-bought products (RECOMMENDER_NEW_ITEM_WEIGHT
    "auto"): per weight measured, its lists' NDCG@10 on all and on never-bought purchases in the
    held-out month, the bar of Popular's they reach, whether its training chose it and whether its
    stored lists follow it; Popular's two figures, the weight staff set, and whether it can be set here.
    None for a version whose training recorded no choice with its bars."""
    if model_version is None:
        return None
    choice = model_version.new_item_weight_choice
    if not choice.get("bars") or not choice.get("by_weight"):
        return None
    chosen = model_version.chosen_new_item_weight
    lists = model_version.served_lists or {}
    served = lists.get("new_item_weight")
    rows = []
    for weight, values in sorted(choice["by_weight"].items(), key=lambda item: float(item[0])):
        reached = values.get("bar_reached")
        rows.append(
            {
                "weight": float(weight),
                "ndcg": values["ndcg@10"],
                "new_ndcg": values["new_ndcg@10"],
                "beats": BAR_WORDS[reached] if reached else None,
                "chosen": chosen is not None and float(weight) == chosen,
                "served": served is not None and float(weight) == served,
            }
        )
    fixed = settings.RECOMMENDER_NEW_ITEM_WEIGHT
    return {
        "version": model_version,
        "staff_set": model_version.new_item_weight_set,
        # a number in the environment fixes every version's weight; otherwise the served version's
        # weight can be set here (``recommender.services.discovery``)
        "fixed": None if fixed == NEW_ITEM_WEIGHT_AUTO else float(fixed),
        "settable": fixed == NEW_ITEM_WEIGHT_AUTO and model_version.status == ModelVersion.Status.ACTIVE,
        "min_new_items": choice.get("min_new_items"),
        "popular_served": choice.get("popular_served_new_ndcg@10"),
        "popular_ranking": choice.get("popular_new_ndcg@10"),
        "margin": choice.get("margin"),
        "rows": rows,
    }


def model_version_rows(*, versions: list[ModelVersion]) -> list[dict]:
    """One row per version: the version, its best baseline ``(label, ndcg)``, the MLP's lift over it,
    whether it can be activated and the settings of its lists (``served_lists_summary``)."""
    rows = []
    for version in versions:
        best = recommender_selectors.best_baseline_ndcg(version)
        rows.append(
            {
                "version": version,
                "best_baseline": (recommender_selectors.MODEL_LABELS.get(best[0], best[0]), best[1])
                if best
                else None,
                "lift": (version.ndcg / best[1] - 1)
                if best and best[1] and version.ndcg is not None
                else None,
                "can_activate": version.status in ACTIVATABLE and version.scored_at is not None,
                "lists": served_lists_summary(version),
            }
        )
    return rows


def model_versions_overview() -> dict:
    """Everything the room shows: ``rows``, ``served`` (or None), ``quality`` and ``weight_choice`` (of
    the served version, or the latest when none is served), ``ndcg`` (by version, for the chart) and
    ``training_jobs``."""
    versions = recommender_selectors.model_version_list()
    served = next((version for version in versions if version.status == ModelVersion.Status.ACTIVE), None)
    shown = served or (versions[0] if versions else None)
    return {
        "rows": model_version_rows(versions=versions),
        "served": served,
        "quality": recommender_selectors.model_quality_table(model_version=shown),
        "weight_choice": new_item_weight_choice_table(shown),
        "ndcg": recommender_selectors.ndcg_by_version(versions),
        "training_jobs": [job for job in job_list_unfinished() if job.kind == Job.Kind.TRAIN],
    }
