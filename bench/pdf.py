"""PDF benchmark: render official documents (GB/T 9704 layout) with WeasyPrint, in one process.

    python -m bench.pdf [--warm N] [--orders N] [--uncached N] [--issue] [--json]

Prints, against the targets of the PDF issue:
- warm render time of a one-page order (median and p95 of N renders after a warm-up),
- its PDF size,
- time and peak memory (RSS) to render 100 different orders in this process,
- for comparison, renders that build a new FontConfiguration and parse the CSS every time,
- the one-page order is written to artifacts/documents/bench_one_page.pdf,
- with --issue: 100 full issues through the domain service (number, render, store, audit) into a
  throw-away SQLite database.
Progress goes to stderr, results to stdout.
"""
import argparse
import json
import os
import platform
import resource
import statistics
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import psutil

TARGETS = {"warm_ms": 100, "size_kb": 200, "hundred_s": 10, "peak_mb": 200}
CONTENT = {
    "issuing_body": "荆州市打击治理电信网络新型违法犯罪联席会议办公室",
    "header": "荆州市打击治理电信网络新型违法犯罪联席会议办公室",
    "printed_by": "荆州市打击治理电信网络新型违法犯罪联席会议办公室",
    "addressee": "中国移动荆州分公司",
    "title": "关于约谈中国移动荆州分公司负责人的通知",
    "paragraphs": ["你公司沙市中山营业厅本月有3名员工涉嫌参与贩卖电话卡，决定对你公司负责人进行公开警示约谈。"],
    "measures": [],
    "cc": ["荆州市公安局", "荆州市通信发展管理办公室"],
    "policy_version": "bench",
}
ISSUED_AT = datetime(2026, 11, 21, 2, 0, tzinfo=timezone.utc)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def rss_mb() -> float:
    return psutil.Process().memory_info().rss / 2**20


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kilobytes


def order(i: int) -> dict:
    """The i-th of 100 different one-page orders (addressee, wording and code vary)."""
    return {**CONTENT, "addressee": f"中国移动荆州分公司第{i}营业部",
            "paragraphs": [f"你公司第{i}营业部本月有{i % 9 + 1}名员工涉嫌参与贩卖电话卡，决定对你公司负责人进行公开警示约谈。"]}


def render_one(i: int = 0) -> bytes:
    from domain.documents.render import render_pdf

    return render_pdf(kind="interview_notice", number=f"荆反诈联办〔2026〕{i + 1}号", version=1,
                      verification_code=f"bench{i:011d}", issued_at=ISSUED_AT, content=order(i))


def render_uncached(i: int = 0) -> bytes:
    """What the cache saves: a new FontConfiguration and a freshly parsed stylesheet per render."""
    from weasyprint import CSS, HTML
    from weasyprint.text.fonts import FontConfiguration

    from domain.documents import render

    context = render.build_context(kind="interview_notice", number=f"荆反诈联办〔2026〕{i + 1}号", version=1,
                                   verification_code=f"bench{i:011d}", issued_at=ISSUED_AT, content=order(i))
    html = render.render_html("interview_notice", context)
    folder = render.templates_folder()
    fonts = FontConfiguration()
    css = CSS(filename=str(folder / "document.css"), font_config=fonts)
    return HTML(string=html, base_url=str(folder)).write_pdf(stylesheets=[css], font_config=fonts)


def pages(pdf: bytes) -> int:
    import io

    from pypdf import PdfReader

    return len(PdfReader(io.BytesIO(pdf)).pages)


def timed(fn, n: int) -> tuple[list[float], float]:
    """Wall-clock ms of each call, and the mean CPU ms (steadier when the machine is busy)."""
    samples = []
    cpu_start = time.process_time()
    for i in range(n):
        start = time.perf_counter()
        fn(i)
        samples.append((time.perf_counter() - start) * 1000)
    return samples, (time.process_time() - cpu_start) * 1000 / n


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, int(round(0.95 * len(ordered))) - 1)]


def issue_many(n: int) -> dict:
    """n full issues through the domain service into a throw-away SQLite database."""
    from sqlmodel import Session

    from domain import demo
    from domain.bootstrap import migrate
    from domain.db import make_engine, session_scope
    from domain.documents import service as documents
    from domain.settings import get_settings

    home = Path(tempfile.mkdtemp(prefix="lianban-bench-pdf-"))
    url = f"sqlite:///{home / 'bench.db'}"
    migrate(url)
    engine = make_engine(url)
    get_settings().home = home
    with Session(engine) as session:
        demo.load(session=session, with_cases=False)
        session.commit()
    start = time.perf_counter()
    for i in range(n):
        data = order(i)
        with session_scope(engine) as session:
            documents.issue(session=session, actor="system:bench", document_in=documents.DocumentIn(
                kind="interview_notice", addressee=data["addressee"], title=data["title"],
                paragraphs=data["paragraphs"], cc=data["cc"]))
    elapsed = time.perf_counter() - start
    engine.dispose()
    return {"issues": n, "seconds": round(elapsed, 2), "per_issue_ms": round(elapsed / n * 1000, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--warm", type=int, default=30, help="warm renders timed (default 30)")
    parser.add_argument("--orders", type=int, default=100, help="orders in the batch (default 100)")
    parser.add_argument("--uncached", type=int, default=10, help="uncached renders for comparison (0: skip)")
    parser.add_argument("--issue", action="store_true", help="also time full issues into SQLite")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()

    import domain.documents.render  # noqa: F401  (imports are not part of any figure)

    rss_start = rss_mb()
    log("first render (cold: fonts and stylesheet loaded)…")
    start = time.perf_counter()
    first = render_one()
    cold_ms = (time.perf_counter() - start) * 1000
    sample = Path(__file__).resolve().parent.parent / "artifacts" / "documents" / "bench_one_page.pdf"
    sample.parent.mkdir(parents=True, exist_ok=True)
    sample.write_bytes(first)  # for a reviewer to look at
    for i in range(3):
        render_one(i)
    log(f"{args.warm} warm renders…")
    warm, warm_cpu = timed(lambda i: render_one(0), args.warm)
    log(f"{args.orders} different orders…")
    start, cpu_start = time.perf_counter(), time.process_time()
    sizes = [len(render_one(i)) for i in range(args.orders)]
    batch_s, batch_cpu = time.perf_counter() - start, time.process_time() - cpu_start
    results = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "load_average_1m": round(os.getloadavg()[0], 2)},
        "one_page_order": {"pages": pages(first), "size_kb": round(len(first) / 1024, 1), "cold_ms": round(cold_ms, 1),
                           "warm_min_ms": round(min(warm), 1), "warm_median_ms": round(statistics.median(warm), 1),
                           "warm_p95_ms": round(p95(warm), 1),
                           "warm_cpu_ms": round(warm_cpu, 1)},
        "batch": {"orders": args.orders, "seconds": round(batch_s, 2), "cpu_seconds": round(batch_cpu, 2),
                  "max_size_kb": round(max(sizes) / 1024, 1),
                  "rss_start_mb": round(rss_start, 1), "rss_end_mb": round(rss_mb(), 1),
                  "peak_rss_mb": round(peak_mb(), 1)},
    }
    if args.uncached:
        log(f"{args.uncached} uncached renders (new FontConfiguration + CSS each)…")
        before = rss_mb()
        uncached, uncached_cpu = timed(render_uncached, args.uncached)
        results["uncached"] = {"renders": args.uncached, "median_ms": round(statistics.median(uncached), 1),
                               "cpu_ms": round(uncached_cpu, 1),
                               "rss_growth_mb": round(rss_mb() - before, 1)}
    if args.issue:
        log(f"{args.orders} full issues into SQLite…")
        results["issue"] = issue_many(args.orders)
    results["targets_met"] = {
        "warm ≤ 100 ms": results["one_page_order"]["warm_median_ms"] <= TARGETS["warm_ms"],
        "size ≤ 200 KB": results["one_page_order"]["size_kb"] <= TARGETS["size_kb"],
        "100 orders ≤ 10 s": batch_s <= TARGETS["hundred_s"],
        "peak ≤ 200 MB": results["batch"]["peak_rss_mb"] <= TARGETS["peak_mb"],
    }
    if args.json:
        print(json.dumps(results, ensure_ascii=False, indent=2))
        return
    one, batch = results["one_page_order"], results["batch"]
    print(f"machine: {results['machine']['cpus']} CPUs, Python {results['machine']['python']}, "
          f"load average {results['machine']['load_average_1m']}")
    print(f"one-page order: {one['pages']} page(s), {one['size_kb']} KB; cold {one['cold_ms']} ms; "
          f"warm min {one['warm_min_ms']} ms, median {one['warm_median_ms']} ms, p95 {one['warm_p95_ms']} ms, CPU {one['warm_cpu_ms']} ms  "
          f"(target ≤ 100 ms, ≤ 200 KB)")
    print(f"{batch['orders']} orders in one process: {batch['seconds']} s (CPU {batch['cpu_seconds']} s), largest {batch['max_size_kb']} KB; "
          f"RSS {batch['rss_start_mb']} → {batch['rss_end_mb']} MB, peak {batch['peak_rss_mb']} MB  "
          f"(target ≤ 10 s, ≤ 200 MB)")
    if "uncached" in results:
        u = results["uncached"]
        print(f"without the per-process cache: median {u['median_ms']} ms (CPU {u['cpu_ms']} ms) per render, "
              f"RSS +{u['rss_growth_mb']} MB over {u['renders']} renders")
    if "issue" in results:
        i = results["issue"]
        print(f"{i['issues']} full issues (number, render, store, audit; SQLite): {i['seconds']} s, "
              f"{i['per_issue_ms']} ms each")
    print("targets: " + ", ".join(f"{k} {'✔' if ok else '✘'}" for k, ok in results["targets_met"].items()))


if __name__ == "__main__":
    main()
