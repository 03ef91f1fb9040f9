"""The full phone and English passes over every page of every role (issue 17).

    .venv/bin/python bench/browser_pass.py [--url http://127.0.0.1:8000] [--pass phone|english|both]

Against a running demo site (`make run` in another terminal, or `make passes`, which starts one on a
throwaway database): Debian's Chromium signs in as each demo account and checks every page at
390×844 in Chinese (the phone pass) and at 390×844 in English (the English pass): no horizontal
scroll, no title squeezed into a cell under 120 px, no tracking code broken over lines, no Chinese
interface text outside user content (lang="zh-CN") in English, and axe-core with no serious or
critical violation. Prints one line per page and exits 1 when any page has a problem.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from browser_pass import PHONE, PageReport, demo_logins, demo_seed, run_pass  # noqa: E402
from e2e_server import CHROMIUM, headless_chromium, running_site  # noqa: E402


def main() -> int:
    """Run the passes and print what each page showed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="a running demo site (default: start one)")
    parser.add_argument(
        "--pass", dest="which", default="both", choices=["phone", "english", "both"]
    )
    parser.add_argument("--messages", type=int, default=80, help="demo messages of a started site")
    parser.add_argument("--no-axe", action="store_true", help="skip axe-core (faster)")
    args = parser.parse_args()
    if CHROMIUM is None:
        print("Debian's chromium is not installed: make browser")
        return 2
    passes = {"phone": False, "english": True}
    if args.which != "both":
        passes = {args.which: passes[args.which]}
    failed = 0
    with ExitStack() as stack:
        site, logins = args.url, None
        if not site:
            tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="passes-")))
            started = time.monotonic()
            chosen = str(tmp / "logins.json")
            site = stack.enter_context(
                running_site(tmp, seed=demo_seed(args.messages, chosen, whole_tree=True))
            )
            logins = demo_logins(chosen)
            print(f"demo site on {site} ready in {time.monotonic() - started:.0f} s")
        browser = stack.enter_context(headless_chromium())

        def show(report: PageReport) -> None:
            """One line per page, its problems indented below."""
            mark = "ok  " if not report.problems else "FAIL"
            print(f"{mark} {report.role:<12} {report.url}", flush=True)
            for problem in report.problems:
                print(f"       {problem}", flush=True)

        for name, english in passes.items():
            print(f"== {name} pass (390×844, {'English' if english else 'Chinese'})")
            started = time.monotonic()
            reports = run_pass(
                browser,
                site,
                viewport=PHONE,
                english=english,
                short=False,
                axe=not args.no_axe,
                logins=logins,
                progress=show,
            )
            bad = sum(1 for r in reports if r.problems)
            failed += bad
            print(f"{len(reports)} pages, {bad} with problems, {time.monotonic() - started:.0f} s")
    print(f"chromium: {shutil.which('chromium')}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
