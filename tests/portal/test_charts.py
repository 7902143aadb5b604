import re

import pytest

from portal.charts import bar_chart_svg, compact_number, line_chart_svg, nice_ticks


@pytest.mark.parametrize(
    ("max_value", "expected"),
    [
        (97, [0, 20, 40, 60, 80, 100]),
        (100, [0, 20, 40, 60, 80, 100]),
        (0.37, [0, 0.1, 0.2, 0.3, 0.4]),
        (1234, [0, 250, 500, 750, 1000, 1250]),
        (5, [0, 1, 2, 3, 4, 5]),
        (0, [0, 1]),
    ],
)
def test_nice_ticks_are_round_and_cover_the_maximum(max_value, expected):
    assert nice_ticks(max_value) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("value", "text"),
    [(0, "0"), (12, "12"), (1234, "1.2k"), (2_500_000, "2.5M"), (0.25, "0.25"), (3.5, "3.5")],
)
def test_compact_number(value, text):
    assert compact_number(value) == text


def test_line_chart_places_points_on_the_axes():
    # given 0, 50, 100 over three labels on a 640x240 chart (plot area x 56..624, y 16..200)
    svg = line_chart_svg(labels=["Jan", "Feb", "Mar"], series={"Revenue": [0, 50, 100]}, title="Revenue")

    # then the line runs from the bottom-left corner through the middle to the top-right corner
    polyline = re.search(r'<polyline[^>]*points="([^"]+)"', svg).group(1)
    assert polyline == "56.0,200.0 340.0,108.0 624.0,16.0"
    assert [label for label in re.findall(r'class="tick y-tick"[^>]*>([^<]+)<', svg)] == [
        "0",
        "20",
        "40",
        "60",
        "80",
        "100",
    ]
    assert re.findall(r'class="tick x-tick"[^>]*>([^<]+)<', svg) == ["Jan", "Feb", "Mar"]
    assert 'aria-label="Revenue"' in svg


def test_line_chart_breaks_the_line_at_missing_values_and_draws_a_legend():
    svg = line_chart_svg(
        labels=["v1", "v2", "v3", "v4", "v5"],
        series={"MLP": [0.3, 0.32, None, 0.35, 0.36], "Best baseline": [0.3, 0.3, 0.3, 0.3, 0.3]},
        title="NDCG",
    )
    assert len(re.findall(r'<polyline[^>]*data-series="MLP"', svg)) == 2
    assert len(re.findall(r'<polyline[^>]*data-series="Best baseline"', svg)) == 1
    assert svg.count('class="legend"') == 2


def test_bar_chart_bar_heights_are_proportional_to_values():
    svg = bar_chart_svg(labels=["Champions", "Lost"], values=[10, 40], title="Groups")

    heights = [float(height) for height in re.findall(r'<rect class="bar"[^>]*height="([0-9.]+)"', svg)]
    # the axis tops out at 40, so 40 fills the 184-pixel plot height and 10 a quarter of it
    assert heights == pytest.approx([46.0, 184.0])
    assert re.findall(r'class="bar-value"[^>]*>([^<]+)<', svg) == ["10", "40"]


def test_chart_text_is_escaped():
    svg = bar_chart_svg(labels=["<script>alert(1)</script>"], values=[3], title='Say "hi" & <b>')
    assert "<script>" not in svg
    assert "&lt;script&gt;" in svg
    assert 'aria-label="Say &quot;hi&quot; &amp; &lt;b&gt;"' in svg


def test_chart_without_data_says_so():
    assert "No data yet" in line_chart_svg(labels=[], series={"Revenue": []}, title="Revenue")
    assert "No data yet" in bar_chart_svg(labels=[], values=[], title="Orders")


def test_series_of_the_wrong_length_is_refused_with_its_name():
    with pytest.raises(ValueError, match="Series 'Revenue' has 2 values for 3 labels"):
        line_chart_svg(labels=["a", "b", "c"], series={"Revenue": [1, 2]}, title="Revenue")


def test_time_labels_are_thinned_so_they_do_not_overlap():
    from portal.charts import line_chart_svg

    labels = [f"Month {index:02d} 2024" for index in range(12)]
    svg = str(line_chart_svg(labels=labels, series={"Revenue": list(range(12))}, title="Revenue"))

    shown = [label for label in labels if f">{label}<" in svg]
    assert 2 <= len(shown) < len(labels)
    assert labels[-1] in shown


def test_horizontal_bars_name_every_category_and_scale_to_the_largest():
    from portal.charts import hbar_chart_svg

    svg = str(hbar_chart_svg(labels=["Potential loyalists", "Lost"], values=[30, 15], title="Groups"))

    assert ">Potential loyalists<" in svg and ">Lost<" in svg
    widths = [float(width) for width in re.findall(r'<rect class="bar"[^>]* width="([\d.]+)"', svg)]
    assert widths[0] == pytest.approx(2 * widths[1])


def test_a_long_label_at_the_right_edge_ends_there_instead_of_being_cut_off():
    months = [
        f"{month} 2011" for month in ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct")
    ]
    svg = line_chart_svg(labels=months, series={"Revenue": list(range(10))}, title="Revenue")

    ticks = re.findall(r'class="tick x-tick"[^>]*text-anchor="(\w+)">([^<]+)<', svg)
    assert ticks[-1] == ("end", "Oct 2011")  # centred on x=624 it would run past the 640-wide chart
    assert all(anchor == "middle" for anchor, _ in ticks[:-1])


def test_bar_values_are_printed_only_where_every_bar_has_room_for_its_value():
    roomy = bar_chart_svg(labels=["a", "b"], values=[1200, 3], title="t")
    crowded = bar_chart_svg(labels=[str(index) for index in range(200)], values=[1200] * 200, title="t")

    assert roomy.count('class="bar-value"') == 2
    assert 'class="bar-value"' not in crowded and crowded.count('<rect class="bar"') == 200


def test_x_labels_never_run_into_each_other_at_the_right_edge():
    """The last label, moved left to stay inside the chart, overlapped the one before it."""
    labels = [f"Mon {year}" for year in range(2000, 2016)] + ["Dec 2026"]
    svg = line_chart_svg(labels=labels, series={"r": list(range(len(labels)))}, title="t")

    spans = []
    for x, anchor, text in re.findall(
        r'class="tick x-tick" x="([\d.]+)" y="[\d.]+" text-anchor="(\w+)">([^<]+)<', svg
    ):
        width = len(text) * 6.5
        left = {"end": float(x) - width, "start": float(x), "middle": float(x) - width / 2}[anchor]
        spans.append((left, left + width))
    assert spans[-1][1] <= 640 and "Dec 2026" in svg
    assert all(right <= next_left for (_, right), (next_left, _) in zip(spans, spans[1:], strict=False))
