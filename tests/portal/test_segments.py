"""The segments room: groups and their movement, the CSV of a list, a recomputation."""

import csv
import io

from django.urls import reverse

from core.models import Job


def test_segments_page_shows_groups_movement_and_lists(staff_client, shop_data):
    response = staff_client.get(reverse("staff:segments"))
    html = response.content.decode()
    assert response.status_code == 200
    assert sum(group["count"] for group in response.context["groups"]) == len(shop_data["customers"])
    assert response.context["movement"], "every customer moved one group between the two runs"
    assert '<div id="segment-chart"><svg' in html
    assert {segment.customer_id for segment in response.context["high_value"]} == set(
        shop_data["run"].segments.filter(high_value=True).values_list("customer_id", flat=True)
    )


def test_segments_page_says_whether_forecasts_were_corrected_for_the_season(staff_client, shop_data):
    run = shop_data["run"]
    run.parameters = {
        "seasonal_correction": {
            "factors": {"90": 1.264, "365": 1.05},
            "backtest_cutoff": "2010-12-10",
            "reason": "backtest of 3,321 customers from 2010-12-10",
        }
    }
    run.save(update_fields=["parameters"])

    corrected = staff_client.get(reverse("staff:segments")).content.decode()

    assert "corrected for the season: ×1.264 over 90 days, ×1.05 over a year" in corrected
    run.parameters["seasonal_correction"].update(
        factors={"90": 1.0, "365": 1.0}, backtest_cutoff=None, reason="no history from 2010-06-11 on"
    )
    run.save(update_fields=["parameters"])
    plain = staff_client.get(reverse("staff:segments")).content.decode()
    assert "not corrected for the season: no history from 2010-06-11 on" in plain


def test_segment_csv_exports(staff_client, shop_data):
    everyone = staff_client.get(reverse("staff:segments_csv"))
    rows = list(csv.DictReader(io.StringIO(everyone.content.decode())))
    assert len(rows) == len(shop_data["customers"])

    high_value = staff_client.get(reverse("staff:segments_csv") + "?list=high_value")
    high_value_rows = list(csv.DictReader(io.StringIO(high_value.content.decode())))
    assert high_value_rows and all(row["high_value"] == "1" for row in high_value_rows)
    # one layout for every segments file, whatever the query string
    assert list(high_value_rows[0]) == list(rows[0])
    clv = [float(row["predicted_clv_12m"]) for row in high_value_rows]
    assert clv == sorted(clv, reverse=True)

    group = rows[0]["rfm_group"]
    one_group = staff_client.get(reverse("staff:segments_csv"), {"group": group})
    group_rows = list(csv.DictReader(io.StringIO(one_group.content.decode())))
    assert group_rows and {row["rfm_group"] for row in group_rows} == {group}
    assert list(group_rows[0]) == list(rows[0])

    bad = staff_client.get(reverse("staff:segments_csv") + "?group=vips")
    assert bad.status_code == 400
    assert "Unknown RFM group" in bad.content.decode()


def test_segment_csv_never_echoes_a_request_value_as_markup(staff_client, shop_data):
    payload = "<svg onload=alert(1)>"
    for query in ({"group": payload}, {"list": payload}):
        response = staff_client.get(reverse("staff:segments_csv"), query)
        assert response.status_code == 400
        assert response["Content-Type"].startswith("text/plain")
        assert payload not in response.content.decode()


def test_recompute_segments_queues_a_job(staff_client, staff_user, db, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        response = staff_client.post(reverse("staff:segments_recompute"))
    job = Job.objects.get(kind=Job.Kind.SEGMENTS)
    assert response["Location"] == reverse("staff:job_detail", args=[job.pk])
    assert job.created_by == staff_user
    assert len(callbacks) == 1
