"""The office's statistics in a real browser: the demo's thirteen months of history give the page
figures to compare; choosing a unit swaps the results in place (htmx) and the address follows, so
the view can be bookmarked; the download is an Excel workbook; the circulation page opens."""
import io

from openpyxl import load_workbook

from tests.e2e.test_browser import Person, app_url, browser  # noqa: F401  (module fixtures)


def test_office_reads_the_statistics_of_a_county_and_downloads_them(app_url, browser):  # noqa: F811
    from playwright.sync_api import expect

    office = Person(browser, app_url, "office")
    office.sign_in()
    office.page.get_by_role("link", name="统计").click()
    expect(office.page.get_by_role("heading", name="统计", exact=True)).to_be_visible()
    table = office.page.locator("#statistics-results table").first
    expect(table).to_contain_text("预警处置数")
    city_warnings = int(table.locator("tr", has_text="预警处置数").locator("td").first.inner_text().replace(",", ""))
    assert city_warnings > 0  # the demo history has about forty warnings a month

    office.page.get_by_label("所属单位").select_option(label="\u3000江陵县")
    expect(office.page.locator("#figures-title")).to_contain_text("江陵县")
    assert "unit=jiangling" in office.page.url  # htmx pushed the filter into the address
    county_warnings = int(table.locator("tr", has_text="预警处置数").locator("td").first.inner_text().replace(",", ""))
    assert 0 < county_warnings < city_warnings
    expect(office.page.locator("#statistics-results svg")).to_have_count(3)
    office.shot("20-statistics-county")

    with office.page.expect_download() as download:
        office.page.get_by_role("link", name="下载 Excel").click()
    sheet = load_workbook(io.BytesIO(open(download.value.path(), "rb").read())).worksheets[0]
    rows = {row[0]: row for row in sheet.iter_rows(values_only=True) if row and row[0]}
    assert rows["统计单位"][1] == "江陵县" and rows["预警处置数"][1] == county_warnings

    office.page.get_by_role("link", name="通报").click()
    expect(office.page.get_by_role("heading", name="月通报")).to_be_visible()
    assert office.errors == []  # no script or CSP error on either page
