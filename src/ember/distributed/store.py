"""Key-value stores for rendezvous: ``HashStore`` (one process), ``TCPStore`` (a server on one host), ``FileStore``
(a shared file) and ``PrefixStore``.

They carry only small rendezvous values (MPI port names, counters); tensors always travel over MPI.  Every store
implements the same primitives over a :class:`_Table`; keys are ``str``, values ``bytes``.
"""
import datetime
import fcntl
import os
import socket
import socketserver
import struct
import threading
import time

__all__ = ["Store", "HashStore", "TCPStore", "FileStore", "PrefixStore", "DistError", "DistStoreError"]

_DEFAULT_TIMEOUT = datetime.timedelta(seconds=300)


class DistError(RuntimeError):
    """An error in the distributed package."""


class DistStoreError(DistError):
    """A store operation failed or timed out."""


def _to_bytes(value):
    if isinstance(value, bytes):
        return value
    if isinstance(value, (bytearray, memoryview)):
        return bytes(value)
    if isinstance(value, str):
        return value.encode()
    if isinstance(value, (list, tuple)):
        return bytes(value)
    raise TypeError(f"store values must be str or bytes, not {type(value).__name__}")


def _seconds(timeout):
    return timeout.total_seconds() if isinstance(timeout, datetime.timedelta) else float(timeout)


class _Timeout(Exception):
    """A blocking table call ran out of time; each store turns it into its own error."""

    def __init__(self, keys, seconds):
        super().__init__()
        self.keys, self.seconds = keys, seconds

    def tcp_message(self):
        """The TCPStore's wording."""
        names = ", ".join("/" + k for k in self.keys)
        return f"wait timeout after {int(self.seconds * 1000)}ms, keys: {names}"


class _Table:
    """A dict of bytes guarded by a condition variable: the semantics every store shares."""

    def __init__(self):
        self.data = {}
        self.cond = threading.Condition()

    def set(self, key, value):
        with self.cond:
            self.data[key] = value
            self.cond.notify_all()

    def wait(self, keys, seconds):
        end = time.monotonic() + seconds
        with self.cond:
            while not all(k in self.data for k in keys):
                left = end - time.monotonic()
                if left <= 0:
                    raise _Timeout(keys, seconds)
                self.cond.wait(left)

    def get(self, key, seconds):
        self.wait([key], seconds)
        with self.cond:
            return self.data[key]

    def add(self, key, amount):
        with self.cond:
            value = int(self.data.get(key, b"0")) + amount
            self.data[key] = str(value).encode()
            self.cond.notify_all()
            return value

    def compare_set(self, key, expected, desired):
        with self.cond:
            current = self.data.get(key)
            if current is None:
                if expected:
                    return expected
                self.data[key] = desired
            elif current == expected:
                self.data[key] = desired
            else:
                return current
            self.cond.notify_all()
            return desired

    def append(self, key, value):
        with self.cond:
            self.data[key] = self.data.get(key, b"") + value
            self.cond.notify_all()

    def delete(self, key):
        with self.cond:
            return self.data.pop(key, None) is not None

    def check(self, keys):
        with self.cond:
            return all(k in self.data for k in keys)

    def num_keys(self):
        with self.cond:
            return len(self.data)


class Store:
    """Base class of the key-value stores (``set``/``get``/``add``/``wait``/...).

    Subclasses provide ``_call(op, *args)`` running one :class:`_Table` method; ``timeout`` bounds blocking calls.
    """

    def __init__(self, timeout=_DEFAULT_TIMEOUT):
        self._timeout = timeout

    @property
    def timeout(self):
        """How long ``get`` and ``wait`` block before raising :class:`DistStoreError` (a ``timedelta``)."""
        return self._timeout

    def set_timeout(self, timeout):
        """Change the blocking timeout (a ``timedelta``)."""
        self._timeout = timeout

    def set(self, key, value):
        """Store ``value`` (str or bytes) under ``key``, waking any waiter."""
        self._call("set", key, _to_bytes(value))

    def get(self, key):
        """The bytes under ``key``, waiting up to ``timeout`` for it to be set."""
        return self._call("get", key, _seconds(self._timeout))

    def add(self, key, amount):
        """Add the integer ``amount`` to the counter ``key`` (created at 0); returns the new value."""
        return self._call("add", key, int(amount))

    def compare_set(self, key, expected_value, desired_value):
        """Set ``key`` to ``desired_value`` if it currently holds ``expected_value`` (or is absent and
        ``expected_value`` is empty); returns the value now stored (or ``expected_value`` if absent)."""
        return self._call("compare_set", key, _to_bytes(expected_value), _to_bytes(desired_value))

    def append(self, key, value):
        """Append bytes to ``key``'s value (creating it)."""
        self._call("append", key, _to_bytes(value))

    def multi_get(self, keys):
        """``[get(k) for k in keys]``."""
        return [self.get(k) for k in keys]

    def multi_set(self, keys, values):
        """``set(k, v)`` for each pair."""
        for k, v in zip(keys, values):
            self.set(k, v)

    def wait(self, keys, timeout=None):
        """Block until every key in ``keys`` exists, up to ``timeout`` (default the store's)."""
        self._call("wait", list(keys), _seconds(self._timeout if timeout is None else timeout))

    def check(self, keys):
        """True when every key in ``keys`` exists (no waiting)."""
        return self._call("check", list(keys))

    def delete_key(self, key):
        """Remove ``key``; True if it existed."""
        return self._call("delete", key)

    def num_keys(self):
        """How many keys the store holds."""
        return self._call("num_keys")

    def has_extended_api(self):
        """True: ``append``/``multi_get``/``multi_set`` are supported."""
        return True


class HashStore(Store):
    """A store inside this process (threads share it)."""

    def __init__(self):
        super().__init__()
        self._table = _Table()

    def _call(self, op, *args):
        try:
            return getattr(self._table, op)(*args)
        except _Timeout:
            raise DistStoreError("Wait timeout") from None


class PrefixStore(Store):
    """A view of ``store`` in which every key is prefixed with ``prefix + '/'``."""

    def __init__(self, prefix, store):
        super().__init__(store.timeout)
        self._prefix = prefix
        self.underlying_store = store

    def _key(self, key):
        return f"{self._prefix}/{key}"

    def _call(self, op, *args):
        first = [self._key(k) for k in args[0]] if isinstance(args[0], list) else self._key(args[0])
        inner = self.underlying_store
        saved = inner.timeout
        inner.set_timeout(self._timeout)
        try:
            return inner._call(op, first, *args[1:])
        finally:
            inner.set_timeout(saved)

    def num_keys(self):
        return self.underlying_store.num_keys()


# ---------------------------------------------------------------- TCP wire format
# A message is a count then length-prefixed fields; fields are bytes (ints and strings travel as their text).
_OPS = ("set", "get", "add", "compare_set", "append", "wait", "check", "delete", "num_keys")


def _send(sock, fields):
    parts = [struct.pack("!I", len(fields))]
    for f in fields:
        parts.append(struct.pack("!I", len(f)))
        parts.append(f)
    sock.sendall(b"".join(parts))


def _recv_exact(sock, n):
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ConnectionError("store connection closed")
        buf += chunk
    return bytes(buf)


def _recv(sock):
    (count,) = struct.unpack("!I", _recv_exact(sock, 4))
    return [_recv_exact(sock, struct.unpack("!I", _recv_exact(sock, 4))[0]) for _ in range(count)]


def _encode_args(op, args):
    if op in ("wait", "check"):
        keys = args[0]
        return [str(len(keys)).encode(), *(k.encode() for k in keys), *(str(a).encode() for a in args[1:])]
    out = [args[0].encode()] if args else []
    for a in args[1:]:
        out.append(a if isinstance(a, bytes) else str(a).encode())
    return out


def _decode_args(op, fields):
    if op in ("wait", "check"):
        n = int(fields[0])
        keys = [f.decode() for f in fields[1:1 + n]]
        return [keys] + [float(f) for f in fields[1 + n:]]
    if not fields:
        return []
    args = [fields[0].decode()] + fields[1:]
    if op == "get":
        args[1] = float(args[1])
    elif op == "add":
        args[1] = int(args[1])
    return args


class _Handler(socketserver.BaseRequestHandler):
    def handle(self):
        table = self.server.table
        while True:
            try:
                fields = _recv(self.request)
            except (ConnectionError, OSError):
                return
            op = _OPS[int(fields[0])]
            try:
                result = getattr(table, op)(*_decode_args(op, fields[1:]))
                reply = [b"ok", result if isinstance(result, bytes) else str(result).encode()]
            except _Timeout as exc:
                reply = [b"err", exc.tcp_message().encode()]
            try:
                _send(self.request, reply)
            except OSError:
                return


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


class TCPStore(Store):
    """A store served over TCP by the process created with ``is_master=True``; the others connect to it.

    Args:
        host_name (str): the server's host.
        port (int): its port (0 with ``is_master`` picks a free one; read it back from :attr:`port`).
        world_size (int, optional): number of store users; with ``wait_for_workers`` the master waits for all.
        is_master (bool): run the server in this process.
        timeout (timedelta): connection and blocking-call timeout.
        wait_for_workers (bool): the master waits until ``world_size`` clients have connected.
    """

    def __init__(self, host_name, port, world_size=None, is_master=False, timeout=_DEFAULT_TIMEOUT,
                 wait_for_workers=True, multi_tenant=False, master_listen_fd=None, use_libuv=True):
        super().__init__(timeout)
        self.host = host_name
        self._server = None
        self._lock = threading.Lock()
        if is_master:
            server = _Server(("", port), _Handler, bind_and_activate=False)
            if master_listen_fd is not None:
                server.socket = socket.socket(fileno=master_listen_fd)
            else:
                server.server_bind()
                server.server_activate()
            server.table = _Table()
            threading.Thread(target=server.serve_forever, name="ember-tcpstore", daemon=True).start()
            self._server = server
            port = server.server_address[1]
        self.port = port
        self._sock = self._connect(_seconds(timeout))
        if world_size is not None and world_size > 0:
            self.add("init/", 1)
            if is_master and wait_for_workers:
                self._wait_count("init/", world_size)

    def _connect(self, seconds):
        end = time.monotonic() + seconds
        while True:
            try:
                sock = socket.create_connection((self.host, self.port), timeout=max(0.1, end - time.monotonic()))
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                sock.settimeout(None)
                return sock
            except OSError as exc:
                if time.monotonic() >= end:
                    raise DistStoreError(f"Timed out after {int(seconds)} seconds waiting for clients. "
                                         f"Could not connect to the store at {self.host}:{self.port}: {exc}") from None
                time.sleep(0.05)

    def _wait_count(self, key, count):
        end = time.monotonic() + _seconds(self._timeout)
        while int(self.get(key)) < count:
            if time.monotonic() > end:
                raise DistStoreError(f"Timed out after {int(_seconds(self._timeout))} seconds waiting for clients. "
                                     f"{int(self.get(key))}/{count} clients joined.")
            time.sleep(0.01)

    def _call(self, op, *args):
        with self._lock:
            try:
                _send(self._sock, [str(_OPS.index(op)).encode(), *_encode_args(op, args)])
                status, payload = _recv(self._sock)
            except (ConnectionError, OSError) as exc:
                raise DistStoreError(f"connection to the store at {self.host}:{self.port} failed: {exc}") from None
        if status == b"err":
            raise DistStoreError(payload.decode())
        if op in ("add", "num_keys"):
            return int(payload)
        if op in ("check", "delete"):
            return payload == b"True"
        if op in ("set", "append", "wait"):
            return None
        return payload

    @property
    def libuvBackend(self):
        """False: ember's server is a thread per client."""
        return False


# ---------------------------------------------------------------- FileStore
_TOMBSTONE = 0xFFFFFFFF


class FileStore(Store):
    """A store kept in a file that every process can open (a shared filesystem across machines).

    Records are appended under an exclusive ``flock``; the current table is the replay of all records.

    Args:
        file_name (str): the file (created if missing).
        world_size (int): number of users (-1: unknown).
    """

    def __init__(self, file_name, world_size=-1):
        super().__init__()
        self.path = file_name
        self.world_size = world_size
        with open(self.path, "ab"):
            pass
        self.add("cleanup/", 1)   # how many stores use the file (counted in num_keys, as PyTorch's)

    def _read(self, fh):
        fh.seek(0)
        raw = fh.read()
        table, pos = {}, 0
        while pos + 8 <= len(raw):
            klen, vlen = struct.unpack_from("<II", raw, pos)
            pos += 8
            key = raw[pos:pos + klen].decode()
            pos += klen
            if vlen == _TOMBSTONE:
                table.pop(key, None)
                continue
            table[key] = raw[pos:pos + vlen]
            pos += vlen
        return table

    @staticmethod
    def _write(fh, key, value):
        k = key.encode()
        vlen = _TOMBSTONE if value is None else len(value)
        fh.seek(0, os.SEEK_END)
        fh.write(struct.pack("<II", len(k), vlen) + k + (value or b""))
        fh.flush()

    def _locked(self, fn):
        with open(self.path, "r+b") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                return fn(fh)
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def _call(self, op, *args):
        if op in ("get", "wait"):
            keys = [args[0]] if op == "get" else args[0]
            seconds = args[1]
            end = time.monotonic() + seconds
            while True:
                table = self._locked(self._read)
                if all(k in table for k in keys):
                    return table[keys[0]] if op == "get" else None
                if time.monotonic() > end:
                    if op == "get":
                        raise RuntimeError(f"Timeout waiting for key: {keys[0]} after {int(seconds * 1000)} ms")
                    raise RuntimeError("Wait timeout")
                time.sleep(0.01)
        return self._locked(lambda fh: self._apply(fh, op, args))

    def delete_key(self, key):
        """Remove ``key``; always True for a file store (as PyTorch's)."""
        super().delete_key(key)
        return True

    def _apply(self, fh, op, args):
        """Run a non-blocking operation on a replay of the file, appending what it changed."""
        table = _Table()
        table.data = self._read(fh)
        before = dict(table.data)
        result = getattr(table, op)(*args)
        for key in set(before) | set(table.data):
            if before.get(key) != table.data.get(key):
                self._write(fh, key, table.data.get(key))
        return result
