#!/usr/bin/env python3
"""A TCP proxy whose client-to-server direction is a link of RATE MB/s.

    throttle.py --port P --upstream 127.0.0.1:5000 --rate MBPS

bench/realbuild/run --push-link puts it in front of its docker-registry,
so a push pays an uplink as a CI runner's push to a remote registry does
(a registry on 127.0.0.1 takes a blob at memory speed, which hides whether
a tool's upload waits for its gzip). All connections share the one rate,
as they share a runner's uplink; answers (server to client) are not
limited. Bytes pass unchanged: the Host header, and so the registry's
Location URLs, name the proxy.
"""
import argparse
import asyncio
import time

CHUNK = 64 * 1024


class Link:
    """A token bucket of RATE bytes/s, burst one chunk, shared by writers."""

    def __init__(self, rate):
        self.rate = rate
        self.free_at = time.monotonic()
        self.lock = asyncio.Lock()

    async def take(self, n):
        async with self.lock:
            now = time.monotonic()
            start = max(now, self.free_at)
            self.free_at = start + n / self.rate
            wait = self.free_at - now - CHUNK / self.rate
        if wait > 0:
            await asyncio.sleep(wait)


async def pipe(reader, writer, link):
    try:
        while True:
            data = await reader.read(CHUNK)
            if not data:
                break
            if link:
                await link.take(len(data))
            writer.write(data)
            await writer.drain()
    except (ConnectionError, asyncio.IncompleteReadError):
        pass
    finally:
        try:
            writer.write_eof()
        except (OSError, RuntimeError):
            writer.close()


async def serve(a):
    host, port = a.upstream.rsplit(":", 1)
    link = Link(a.rate * 1e6)

    async def handle(cr, cw):
        try:
            ur, uw = await asyncio.open_connection(host, int(port))
        except OSError:
            cw.close()
            return
        await asyncio.gather(pipe(cr, uw, link), pipe(ur, cw, None))
        uw.close()
        cw.close()

    srv = await asyncio.start_server(handle, "127.0.0.1", a.port)
    async with srv:
        await srv.serve_forever()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--upstream", required=True)
    ap.add_argument("--rate", type=float, required=True, help="MB/s (10^6 bytes)")
    asyncio.run(serve(ap.parse_args()))


if __name__ == "__main__":
    main()
