"""The container's health check: GET /healthz on this container, exit 0 only for a 200.

Slim Python images have no curl or wget; this needs nothing but the standard library. It prints
the bot's answer, which `docker inspect` keeps in the container's health log. /healthz answers
503 when Redis cannot be reached, so the container is unhealthy while its store is.
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request


def main() -> int:
    url = f"http://127.0.0.1:{os.environ.get('PORT') or '3978'}/healthz"
    try:
        with urllib.request.urlopen(url, timeout=4) as response:
            print(response.status, response.read(200).decode("utf-8", "replace"))
            return 0 if response.status == 200 else 1
    except urllib.error.HTTPError as exc:
        print(exc.code, exc.read(200).decode("utf-8", "replace"))
    except OSError as exc:
        print(f"no answer from {url}: {exc}")
    return 1


if __name__ == "__main__":
    sys.exit(main())
