"""A small WMS 1.3.0 server for tests: GetMap crops of GeoTIFFs (or of a synthetic pattern) as
PNG, with fault injection and a log of every request.

Each layer is either a GeoTIFF (read with rasterio; pixels outside it are white, 255) or the
synthetic pattern `synthetic_pixel` (unbounded, defined on a grid of `synthetic_res` metres
anchored at (0, 0), so a client can check every pixel it gets). A GetMap pixel takes the source
pixel under its centre (nearest), so a request on the source's own grid returns its pixels as
they are.

Faults are consumed in order by GetMap requests: Fault("500", count=2) answers the next two
GetMap requests with HTTP 500 (count=None: all of them); start=N lets the first N GetMap
requests through before the fault applies. Kinds:
  slow              sleep `seconds` (default 5), then answer normally
  429               HTTP 429 with Retry-After: `retry_after` (default 1)
  500, 503          that status with a text body
  truncated_length  Content-Length larger than what is sent, then the connection is closed
  truncated_png     a PNG cut in half, with a Content-Length that matches the cut body
  xml               HTTP 200, text/xml ServiceException (`code`, default NoApplicableCode)
  html              HTTP 200, text/html page
  wrong_size        a valid PNG of half the requested size
  alpha             a valid RGBA PNG whose first column is transparent (not a fault)
die_after=N: after N GetMap requests the server stops: it closes the listening socket and drops
every connection (a server that dies mid-run).

Use from pytest:   with WmsServer({"LAYER": "file.tif"}) as server: server.url ...
Use from a shell:  python3 wms_server.py --layer NAME=file.tif|synthetic [--fault KIND:COUNT]
                   [--die-after N] [--lifetime SECONDS]
It prints "PORT <n>" on stdout, then serves until GET /__shutdown or the lifetime ends;
GET /__count answers the number of GetMap requests so far.
"""

import argparse
import json
import socket
import struct
import sys
import threading
import time
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

import numpy as np

SYNTHETIC = "synthetic"


def synthetic_pixel(col, row):
    """RGB of pixel (col, row) of the synthetic layer (numpy arrays of int64, any sign)."""
    r = (col * 7 + row * 3) % 251
    g = (col * 13 + row * 29) % 256
    b = (col + 2 * row) % 253
    return np.stack([r, g, b], axis=-1).astype(np.uint8)


def encode_png(img):
    """img: (h, w) or (h, w, c) uint8, c in 1..4 -> PNG bytes (no filtering, zlib level 6)."""
    if img.ndim == 2:
        img = img[:, :, None]
    h, w, c = img.shape
    colour_type = {1: 0, 2: 4, 3: 2, 4: 6}[c]
    raw = np.zeros((h, 1 + w * c), dtype=np.uint8)
    raw[:, 1:] = img.reshape(h, w * c)

    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", w, h, 8, colour_type, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(raw.tobytes(), 6)) + chunk(b"IEND", b""))


class RasterLayer:
    """A GeoTIFF in memory: (bands, h, w) uint8 and its north-up geotransform."""

    def __init__(self, path):
        import rasterio  # only needed for file layers

        with rasterio.open(path) as src:
            self.data = src.read()
            t = src.transform
            if t.b != 0 or t.d != 0:
                raise ValueError(f"{path}: rotated rasters are not supported")
            self.x0, self.px, self.y0, self.py = t.c, t.a, t.f, -t.e

    def render(self, minx, miny, maxx, maxy, width, height):
        xs = minx + (np.arange(width) + 0.5) * (maxx - minx) / width
        ys = maxy - (np.arange(height) + 0.5) * (maxy - miny) / height
        cols = np.floor((xs - self.x0) / self.px).astype(np.int64)
        rows = np.floor((self.y0 - ys) / self.py).astype(np.int64)
        bands, h, w = self.data.shape
        out = np.full((height, width, bands), 255, dtype=np.uint8)
        cin = (cols >= 0) & (cols < w)
        rin = (rows >= 0) & (rows < h)
        sub = self.data[:, rows[rin]][:, :, cols[cin]]  # (bands, nr, nc)
        out[np.ix_(rin, cin)] = np.moveaxis(sub, 0, -1)
        return out


class SyntheticLayer:
    def __init__(self, res):
        self.res = res

    def render(self, minx, miny, maxx, maxy, width, height):
        xs = minx + (np.arange(width) + 0.5) * (maxx - minx) / width
        ys = maxy - (np.arange(height) + 0.5) * (maxy - miny) / height
        cols = np.floor(xs / self.res).astype(np.int64)
        rows = np.floor(-ys / self.res).astype(np.int64)
        return synthetic_pixel(cols[None, :], rows[:, None])


class Fault:
    def __init__(self, kind, count=1, **params):
        self.kind = kind
        self.count = count  # None = every request
        self.params = params


def service_exception(code, text):
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<ServiceExceptionReport version="1.3.0" xmlns="http://www.opengis.net/ogc">\n'
        f'  <ServiceException code="{code}">{text}</ServiceException>\n'
        "</ServiceExceptionReport>\n"
    ).encode()


class WmsServer:
    def __init__(self, layers, faults=(), die_after=None, synthetic_res=0.2, host="127.0.0.1"):
        self.layers = {}
        for name, source in layers.items():
            if source == SYNTHETIC:
                self.layers[name] = SyntheticLayer(synthetic_res)
            else:
                self.layers[name] = RasterLayer(str(source))
        self.faults = list(faults)
        self.die_after = die_after
        self.log = []  # one dict per request
        self.lock = threading.Lock()
        self.dead = False
        self.host = host
        self._httpd = None
        self._thread = None

    # ---- life cycle ----
    def start(self):
        server = self

        class Handler(WmsHandler):
            owner = server

        self._httpd = ThreadingHTTPServer((self.host, 0), Handler)
        self._httpd.daemon_threads = True
        self._httpd.block_on_close = False
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self):
        with self.lock:
            self.dead = True
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    @property
    def port(self):
        return self._httpd.server_address[1]

    @property
    def url(self):
        return f"http://{self.host}:{self.port}/wms"

    # ---- what tests look at ----
    def set_faults(self, faults):
        with self.lock:
            self.faults = list(faults)

    def getmaps(self):
        with self.lock:
            return [r for r in self.log if r["request"] == "GetMap"]

    def getmap_count(self):
        return len(self.getmaps())

    # ---- used by the handler ----
    def next_fault(self, index):
        """The fault for the GetMap request number `index` (1-based), consuming it."""
        for fault in self.faults:
            if index <= fault.params.get("start", 0):
                continue
            if fault.count is None:
                return fault
            if fault.count > 0:
                fault.count -= 1
                return fault
        return None

    def die_later(self):
        def die():
            httpd = self._httpd
            if httpd is not None:
                httpd.shutdown()
                httpd.server_close()

        threading.Thread(target=die, daemon=True).start()


class WmsHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as real servers do
    owner = None

    def log_message(self, fmt, *args):  # quiet: tests read owner.log instead
        pass

    def drop(self):
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def send(self, status, body, content_type, extra=(), length=None):
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body) if length is None else length))
            for name, value in extra:
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def do_GET(self):
        owner = self.owner
        url = urlsplit(self.path)
        if url.path == "/__shutdown":
            self.send(200, b"bye\n", "text/plain")
            threading.Thread(target=owner.stop, daemon=True).start()
            return
        if url.path == "/__count":
            self.send(200, f"{owner.getmap_count()}\n".encode(), "text/plain")
            return
        params = {k.upper(): v for k, v in parse_qsl(url.query, keep_blank_values=True)}
        request = params.get("REQUEST", "")
        entry = {"time": time.time(), "path": self.path, "request": request, "params": params,
                 "fault": None}
        with owner.lock:
            if owner.dead:
                entry["fault"] = "dead"
                owner.log.append(entry)
                fault = "dead"
            else:
                owner.log.append(entry)
                getmaps = sum(1 for r in owner.log if r["request"] == "GetMap")
                fault = None
                if request == "GetMap":
                    if owner.die_after is not None and getmaps > owner.die_after:
                        owner.dead = True
                        fault = "dead"
                        owner.die_later()
                    else:
                        fault = owner.next_fault(getmaps)
                entry["fault"] = fault if fault in (None, "dead") else fault.kind
        if fault == "dead":
            self.drop()
            return
        if request != "GetMap":
            self.send(200, service_exception("OperationNotSupported", f"request {request!r}"),
                      "text/xml")
            return
        try:
            img = self.render(params)
        except ValueError as e:
            code, text = e.args
            self.send(200, service_exception(code, text), "text/xml")
            return
        self.answer(img, fault)

    def render(self, params):
        owner = self.owner
        if params.get("SERVICE", "").upper() != "WMS" or params.get("VERSION") != "1.3.0":
            raise ValueError("InvalidParameterValue", "SERVICE=WMS and VERSION=1.3.0 expected")
        layer = owner.layers.get(params.get("LAYERS", ""))
        if layer is None:
            raise ValueError("LayerNotDefined", f"unknown layer {params.get('LAYERS')!r}")
        if params.get("CRS") != "EPSG:2154":
            raise ValueError("InvalidCRS", f"unsupported CRS {params.get('CRS')!r}")
        if params.get("FORMAT") != "image/png":
            raise ValueError("InvalidFormat", f"unsupported format {params.get('FORMAT')!r}")
        try:
            minx, miny, maxx, maxy = (float(v) for v in params["BBOX"].split(","))
            width, height = int(params["WIDTH"]), int(params["HEIGHT"])
        except (KeyError, ValueError):
            raise ValueError("InvalidParameterValue", "bad BBOX, WIDTH or HEIGHT") from None
        if not (0 < width <= 4096 and 0 < height <= 4096 and maxx > minx and maxy > miny):
            raise ValueError("InvalidParameterValue", "bad BBOX, WIDTH or HEIGHT")
        return layer.render(minx, miny, maxx, maxy, width, height)

    def answer(self, img, fault):
        kind = fault.kind if fault else None
        p = fault.params if fault else {}
        if kind == "slow":
            time.sleep(p.get("seconds", 5))
        if kind in ("500", "503"):
            self.send(int(kind), b"Internal error, try again later\n", "text/plain")
        elif kind == "429":
            self.send(429, b"Too many requests\n", "text/plain",
                      extra=[("Retry-After", str(p.get("retry_after", 1)))])
        elif kind == "xml":
            self.send(200, service_exception(p.get("code", "NoApplicableCode"),
                                             p.get("text", "Backend unavailable")), "text/xml")
        elif kind == "html":
            page = b"<html><head><title>Maintenance</title></head><body><h1>Service under " \
                   b"maintenance</h1></body></html>\n"
            self.send(200, page, "text/html; charset=utf-8")
        elif kind == "truncated_length":
            body = encode_png(img)
            self.send(200, body[: len(body) // 2], "image/png", length=len(body))
            self.drop()
        elif kind == "truncated_png":
            body = encode_png(img)
            self.send(200, body[: len(body) // 2], "image/png")
        elif kind == "alpha":
            alpha = np.full(img.shape[:2] + (1,), 255, dtype=np.uint8)
            alpha[:, 0] = 0
            self.send(200, encode_png(np.concatenate([img, alpha], axis=2)), "image/png")
        elif kind == "wrong_size":
            self.send(200, encode_png(img[::2, ::2]), "image/png")
        else:
            self.send(200, encode_png(img), "image/png")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--layer", action="append", default=[],
                        help="NAME=FILE.tif or NAME=synthetic (repeatable)")
    parser.add_argument("--fault", action="append", default=[],
                        help="KIND[:COUNT[:PARAM=VALUE,...]], COUNT 'all' for every request")
    parser.add_argument("--die-after", type=int, default=None)
    parser.add_argument("--synthetic-res", type=float, default=0.2)
    parser.add_argument("--lifetime", type=float, default=300,
                        help="exit after this many seconds whatever happens")
    args = parser.parse_args()
    layers = dict(item.split("=", 1) for item in args.layer) or {"TEST": SYNTHETIC}
    faults = []
    for spec in args.fault:
        parts = spec.split(":")
        count = None if len(parts) > 1 and parts[1] == "all" else int(parts[1]) if len(parts) > 1 else 1
        params = {}
        if len(parts) > 2 and parts[2]:
            for kv in parts[2].split(","):
                k, v = kv.split("=", 1)
                try:
                    params[k] = float(v) if "." in v else int(v)
                except ValueError:
                    params[k] = v
        faults.append(Fault(parts[0], count, **params))
    server = WmsServer(layers, faults, die_after=args.die_after,
                       synthetic_res=args.synthetic_res).start()
    print(f"PORT {server.port}", flush=True)
    end = time.time() + args.lifetime
    while not server.dead and time.time() < end:
        time.sleep(0.05)
    server.stop()
    json.dump({"getmap": server.getmap_count()}, sys.stderr)
    print(file=sys.stderr)


if __name__ == "__main__":
    main()
