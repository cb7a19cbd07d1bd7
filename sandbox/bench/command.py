"""`tsunagi bench`: the benchmark (see sandbox/bench/run.py and the README)."""

from __future__ import annotations

import os

from sandbox.bench.run import main


def register(sub) -> None:
    bench = sub.add_parser("bench", help="性能を測る（127.0.0.1 だけで、5分以内）")
    bench.add_argument("--quick", action="store_true", help="小さな規模で動作確認だけする")
    bench.add_argument("--skip-scale", action="store_true", help="10万件の規模の測定を省く")
    bench.add_argument(
        "--postgres-url",
        default=os.environ.get("TSUNAGI_TEST_POSTGRES_URL"),
        help="PostgreSQL でも測る（既定：TSUNAGI_TEST_POSTGRES_URL）",
    )
    bench.set_defaults(func=cmd_bench)


def cmd_bench(args, settings) -> int:

    return main(quick=args.quick, postgres_url=args.postgres_url, skip_scale=args.skip_scale)
