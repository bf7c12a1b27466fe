"""Render a digest of the sample dumps and photograph it with headless Chromium, light and dark.

Run `.venv/bin/python benchmarks/screenshot_email.py` (a few seconds; needs `chromium`, which
`apt-get install chromium` provides). It writes docs/screenshots/digest.html and
docs/screenshots/digest-light.png and digest-dark.png. Nothing here is a second renderer: the
four sample dumps are parsed with digest.ingest, the last dump's new papers are ranked for a
reader with four alerts with digest.rank, explained with digest.rank.explain, and rendered
with digest.render, the same calls the delivery pipeline makes. The digest shows the first
papers and a "more" link, so that the footer fits in the picture.
tests/render/test_screenshot.py runs the same path (marker `browser`).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from digest.ingest.decode import decode_bytes
from digest.ingest.detect import parse_listing
from digest.ingest.identity import paper_key, title_key
from digest.models import StoredPaper
from digest.rank.explain import explain
from digest.rank.index import PaperIndex, RankPaper, RankParams
from digest.rank.query import parse_query
from digest.rank.score import AlertSpec, SubscriberSpec, rank_subscribers
from digest.rank.stats import corpus_stats, count_terms
from digest.render.digest import paper_view, render_digest
from digest.render.environment import make_environment
from digest.render.labels import counted
from digest.render.view import DigestView, RenderedMail

ROOT = Path(__file__).resolve().parent.parent
DUMPS = ROOT / "tests" / "data" / "dumps"
OUT = ROOT / "docs" / "screenshots"
LISTING_DAY = date(2026, 11, 24)
BASE_URL = "https://papers.example.org"
ALERTS = ("x-ray", '"foundation model"', "segmentation -3d", "dermatology OR skin")
# The second dump is the one whose entries carry authors, dates and upvotes.
SAMPLE_DAYS = 2
SHOWN = 7  # papers in the picture; the rest become the "more" link
WINDOW = (800, 2400)
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


@dataclass(frozen=True, slots=True)
class SampleDay:
    """The sample archive: every distinct paper, and the last dump's new and seen counts."""

    papers: list[StoredPaper]  # in ingest order
    today: list[StoredPaper]  # new in the last dump
    seen: int  # entries of the last dump already known


def load_sample(dumps: Path = DUMPS, *, days: int = SAMPLE_DAYS) -> SampleDay:
    """Ingest the first `days` sample dumps in memory, in file-name order, deduplicated by
    title key; the last of them is today."""
    known: dict[str, StoredPaper] = {}
    today: list[StoredPaper] = []
    seen = 0
    paths = sorted(dumps.glob("*.txt"))[:days]
    for edition, path in enumerate(paths, start=1):
        decoded = decode_bytes(path.read_bytes(), source=path.name, max_bytes=50_000_000)
        listing = parse_listing(decoded, source=path.name, today=LISTING_DAY)
        today, seen = [], 0
        for parsed in listing.papers:
            key = title_key(parsed.title)
            if key in known:
                seen += 1
                continue
            known[key] = StoredPaper(
                id=len(known) + 1,
                key=paper_key(arxiv_id=parsed.arxiv_id, title=parsed.title),
                arxiv_id=parsed.arxiv_id,
                title=parsed.title,
                abstract=parsed.abstract,
                authors=parsed.authors,
                author_count=parsed.author_count,
                organization=parsed.organization,
                published=parsed.published,
                upvotes=parsed.upvotes,
                first_seen_at=datetime(2026, 11, 20 + edition, 6, tzinfo=UTC),
                edition_id=edition,
            )
            today.append(known[key])
    return SampleDay(papers=list(known.values()), today=today, seen=seen)


def sample_digest(
    sample: SampleDay, *, alerts: tuple[str, ...] = ALERTS, shown: int = SHOWN
) -> DigestView:
    """One reader's digest of the last sample day: ranked, explained, the first `shown` kept."""
    counts = count_terms((paper.title, paper.abstract) for paper in sample.papers)
    stats = corpus_stats(
        documents=counts.documents,
        title_terms=counts.title_terms,
        abstract_terms=counts.abstract_terms,
        df=counts.df,
    )
    rank_papers = [
        RankPaper(id=p.id, title=p.title, abstract=p.abstract, upvotes=p.upvotes)
        for p in sample.today
    ]
    index = PaperIndex(rank_papers, stats=stats, params=RankParams())
    queries = {number: parse_query(text) for number, text in enumerate(alerts, start=1)}
    spec = SubscriberSpec(
        id=1, alerts=tuple(AlertSpec(id=n, query=q) for n, q in queries.items()), max_papers=50
    )
    matches = rank_subscribers([spec], index).for_subscriber(1)
    by_id = {paper.id: paper for paper in sample.today}
    views = []
    for match in matches[:shown]:
        paper = by_id[match.paper.id]
        explanation = explain(
            [(alert_id, queries[alert_id]) for alert_id in match.alert_ids],
            title=paper.title,
            abstract=paper.abstract,
        )
        views.append(paper_view(paper, explanation=explanation, base_url=BASE_URL))
    first = views[0].title if views else ""
    return DigestView(
        email="ada@example.org",
        subject=f"{counted(len(matches), 'paper')} for your alerts, {LISTING_DAY:%d %b}",
        preheader=f"{first} and more",
        days=(LISTING_DAY,),
        new_count=len(sample.today),
        seen_count=sample.seen,
        matched_count=len(matches),
        papers=tuple(views),
        more_count=len(matches) - len(views),
        more_url=f"{BASE_URL}/digests/2026-11-24?t=manage-token",
        manage_url=f"{BASE_URL}/manage/manage-token",
        unsubscribe_url=f"{BASE_URL}/unsubscribe/unsubscribe-token",
        feed_url=f"{BASE_URL}/feeds/feed-token.atom",
        postal_address="Example Lab, 1 Research Road, 12345 Science City, Country",
        service_name="digest",
        base_url=BASE_URL,
    )


def render_sample(html_path: Path, *, dumps: Path = DUMPS) -> RenderedMail:
    """Render the sample digest and write its HTML to `html_path`."""
    mail = render_digest(make_environment(), sample_digest(load_sample(dumps)))
    html_path.parent.mkdir(parents=True, exist_ok=True)
    html_path.write_text(mail.html, encoding="utf-8")
    return mail


def find_chromium() -> str | None:
    """The path of a Chromium or Chrome binary, if one is installed."""
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


def screenshot(
    html_path: Path, png_path: Path, *, chromium: str, dark: bool = False, timeout: float = 60.0
) -> None:
    """Photograph a local HTML file with headless Chromium, in the light or the dark scheme."""
    png_path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="digest-chromium-") as profile:
        command = [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            f"--user-data-dir={profile}",
            f"--screenshot={png_path}",
            f"--window-size={WINDOW[0]},{WINDOW[1]}",
        ]
        if dark:
            command += ["--force-dark-mode", "--blink-settings=preferredColorScheme=0"]
        command.append(html_path.resolve().as_uri())
        subprocess.run(command, check=True, capture_output=True, timeout=timeout)
    if not png_path.is_file():
        raise RuntimeError(f"{chromium} wrote no screenshot to {png_path}")


def main() -> None:
    """Write docs/screenshots/digest.html and the light and dark PNGs."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT, help="folder for the HTML and PNGs")
    args = parser.parse_args()
    chromium = find_chromium()
    if chromium is None:
        raise SystemExit("no chromium found: apt-get install chromium")
    html_path = args.out / "digest.html"
    mail = render_sample(html_path)
    for scheme in ("light", "dark"):
        png = args.out / f"digest-{scheme}.png"
        screenshot(html_path, png, chromium=chromium, dark=scheme == "dark")
        print(f"{png}: {png.stat().st_size:,} bytes")
    print(f"{html_path}: {len(mail.html.encode()):,} bytes of HTML")


if __name__ == "__main__":
    main()
