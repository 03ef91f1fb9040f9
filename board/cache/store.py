"""Where cached pages live: each worker's memory (the embedded default) or Redis (production)."""

from __future__ import annotations

import json
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass


@dataclass(frozen=True)
class Page:
    """A stored answer: status, headers (no cookies), body and its ETag."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes
    etag: str

    def dump(self) -> bytes:
        """Bytes for Redis: a JSON line of metadata, then the body (no pickle: Redis is data)."""
        head = {"s": self.status, "h": self.headers, "e": self.etag}
        return json.dumps(head).encode() + b"\n" + self.body

    @classmethod
    def load(cls, raw: bytes) -> Page:
        """The page `dump` wrote."""
        head, _, body = raw.partition(b"\n")
        meta = json.loads(head)
        return cls(meta["s"], [tuple(h) for h in meta["h"]], body, meta["e"])


class MemoryStore:
    """A least-recently-used map of pages bounded in bytes, private to one worker process."""

    def __init__(self, max_bytes: int):
        self.max_bytes = max_bytes
        self.size = 0
        self._pages: OrderedDict[str, tuple[Page, float]] = OrderedDict()
        self._lock = threading.Lock()  # gunicorn's gthread workers serve requests in threads

    def get(self, key: str) -> Page | None:
        """The page under `key` unless it expired (marking it recently used)."""
        with self._lock:
            entry = self._pages.get(key)
            if entry is None:
                return None
            if entry[1] <= time.monotonic():
                del self._pages[key]
                self.size -= len(entry[0].body)
                return None
            self._pages.move_to_end(key)
            return entry[0]

    def set(self, key: str, page: Page, ttl: float) -> None:
        """Store a page for `ttl` seconds, evicting the least recently used beyond the bound."""
        if len(page.body) > self.max_bytes // 4:
            return
        with self._lock:
            old = self._pages.pop(key, None)
            if old is not None:
                self.size -= len(old[0].body)
            self._pages[key] = (page, time.monotonic() + ttl)
            self.size += len(page.body)
            while self.size > self.max_bytes:
                _, (evicted, _) = self._pages.popitem(last=False)
                self.size -= len(evicted.body)

    def clear(self) -> None:
        """Forget every page."""
        with self._lock:
            self._pages.clear()
            self.size = 0


class RedisStore:
    """Pages in Redis, shared by every worker and node; entries expire after their TTL."""

    def __init__(self, url: str, prefix: str):
        import redis

        self.client = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
        self.prefix = prefix

    def get(self, key: str) -> Page | None:
        """The page under `key`, if Redis has it."""
        raw = self.client.get(self.prefix + key)
        return Page.load(raw) if raw is not None else None

    def set(self, key: str, page: Page, ttl: float) -> None:
        """Store a page for `ttl` seconds."""
        self.client.set(self.prefix + key, page.dump(), px=max(1, int(ttl * 1000)))

    def clear(self) -> None:
        """Forget this site's pages."""
        for name in self.client.scan_iter(self.prefix + "*", count=500):
            self.client.delete(name)


class Recent:
    """Values one worker reuses for a bounded time (figures and counts of large scopes): a
    least-recently-used map of at most `entries` results, each dropped `seconds` after it was
    computed."""

    def __init__(self, entries: int = 2048):
        self.entries = entries
        self._values: OrderedDict[tuple, tuple[object, float]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple, seconds: float, compute):
        """The value under `key` if computed less than `seconds` ago, else `compute()` now."""
        if seconds <= 0:
            return compute()
        now = time.monotonic()
        with self._lock:
            entry = self._values.get(key)
            if entry is not None and now - entry[1] < seconds:
                self._values.move_to_end(key)
                return entry[0]
        value = compute()  # outside the lock: two threads may both compute; both are right
        with self._lock:
            self._values[key] = (value, now)
            self._values.move_to_end(key)
            while len(self._values) > self.entries:
                self._values.popitem(last=False)
        return value
