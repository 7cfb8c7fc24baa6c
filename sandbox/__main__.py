"""Serve the sandbox as a process: ``python -m sandbox --port 8900``."""

import argparse
import time

from sandbox.server import Sandbox


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8900)
    parser.add_argument(
        "--rate-scale",
        type=float,
        default=1.0,
        help="multiply every emulated rate limit (faster demos and benchmarks)",
    )
    args = parser.parse_args()
    sandbox = Sandbox(rate_scale=args.rate_scale).start(args.host, args.port)
    print(
        f"sandbox listening on {sandbox.base_url} (state page at {sandbox.base_url}/)", flush=True
    )
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        sandbox.stop()


if __name__ == "__main__":
    main()
