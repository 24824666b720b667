"""Message channels between the DataLoader and its worker processes.

A channel is one end of a connected pair that carries pickled Python objects
in both directions.  On Linux it is a ``SOCK_SEQPACKET`` Unix socket, and large
data never goes through the socket itself:

* Pickles are made with protocol 5, so the big contiguous buffers inside a
  batch (the NumPy arrays under its tensors) come out *out of band*.  A message
  without big buffers travels inline.
* A worker (``send(..., slab=True)``) copies those buffers into a *slot*: an
  anonymous shared-memory file (``memfd``) it keeps mapped and reuses.  The
  first message using a slot carries its file descriptor (``SCM_RIGHTS``); the
  main process maps it once and keeps the mapping.  On receipt the main process
  copies the buffers out into ordinary memory, rebuilds the batch from them and
  hands the slot back with its next message to that worker.  So a batch costs one
  memcpy on each side, no page allocation after warm-up, and the worker never
  waits for the main process to read (only a small header goes through the
  socket).
* Other large messages (e.g. a huge list of indices sent to a worker) use a
  one-off memfd that the receiver maps without copying.

Nothing is ever named in the file system, so nothing leaks when a process is
killed.  Elsewhere a ``multiprocessing`` pipe carrying ordinary pickles is used.
"""
import collections
import io
import mmap
import os
import pickle
import select
import socket
import struct
import sys
import weakref

import numpy as np

__all__ = []

_HAVE_MEMFD = (sys.platform.startswith("linux") and hasattr(os, "memfd_create")
               and hasattr(socket, "SOCK_SEQPACKET") and hasattr(socket.socket, "sendmsg"))

_INLINE_MAX = 32 * 1024         # pickles up to this size travel inside the socket message
_OOB_MIN = 4 * 1024             # buffers at least this large go out of band
_ALIGN = 64
_SLOT_ROUND = 64 * 1024
_RECV_MAX = _INLINE_MAX + 64 * 1024
_FD_ANC = socket.CMSG_SPACE(struct.calcsize("i")) if _HAVE_MEMFD else 0
_MAP_FLAGS = mmap.MAP_SHARED | getattr(mmap, "MAP_POPULATE", 0)

_INLINE = b"I"[0]     # I + pickle
_ONEOFF = b"M"[0]     # M + head + pairs [+ pickle]; fd attached; receiver maps it (zero copy)
_SLOT = b"S"[0]       # S + head + pairs + dropped slot ids [+ pickle]; fd attached when the slot is new
_RELEASE = b"R"[0]    # R + slot ids: the receiver of slot messages hands slots back
_RELEASE_INLINE = b"T"[0]   # T + count + slot ids + pickle: releases riding on an inline message

_ONEOFF_HEAD = struct.Struct("<BQQI")     # pickle in memfd, pickle length, memfd size, buffer count
_SLOT_HEAD = struct.Struct("<IQBBQII")    # slot id, slot size, new fd?, pickle in slot?, pickle len, nbuf, ndropped
_PAIR = struct.Struct("<QQ")              # offset, length
_ID = struct.Struct("<I")

# Every parent-side end of a live channel.  A forked worker closes all of them, so
# that its siblings see EOF as soon as the main process goes away.
_parent_ends = weakref.WeakSet()


class ChannelClosed(EOFError):
    """The other end of a channel is gone (its process exited or closed it)."""


def _dumps(obj):
    big = []

    def keep(buf):
        """pickle's buffer_callback: large buffers out of band, small ones in band."""
        raw = buf.raw()
        if raw.nbytes >= _OOB_MIN:
            big.append(raw)
            return False       # out of band
        return True            # small: serialize in band

    f = io.BytesIO()
    pickle.Pickler(f, protocol=5, buffer_callback=keep).dump(obj)
    return f.getbuffer(), big


def _layout(payload, big):
    """Offsets of the (optional) pickle and the buffers in one shared region, and its size."""
    offset = 0
    payload_in = payload.nbytes > _INLINE_MAX
    if payload_in:
        offset = payload.nbytes
    places = []
    for buf in big:
        offset = (offset + _ALIGN - 1) // _ALIGN * _ALIGN
        places.append(offset)
        offset += buf.nbytes
    return payload_in, places, offset


def _write_all(fd, data, offset):
    view = memoryview(data).cast("B")
    while view.nbytes:
        n = os.pwrite(fd, view, offset)
        view = view[n:]
        offset += n


def _fds_from(anc):
    fds = []
    for level, kind, data in anc:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            usable = len(data) - len(data) % 4
            fds.extend(struct.unpack(f"{usable // 4}i", data[:usable]))
    return fds


class _Slot:
    __slots__ = ("id", "size", "fd", "mem", "view", "announced")

    def __init__(self, slot_id, size):
        self.id = slot_id
        self.size = size
        self.fd = os.memfd_create("ember-batch", os.MFD_CLOEXEC)
        os.ftruncate(self.fd, size)
        self.mem = mmap.mmap(self.fd, size)
        self.view = memoryview(self.mem)
        self.announced = False

    def close(self):
        """Unmap and close the slot's memory."""
        self.view.release()
        self.mem.close()
        os.close(self.fd)


class SocketChannel:
    """One end of a SOCK_SEQPACKET channel (see the module docstring).

    ``send(obj)`` / ``recv()`` move whole Python objects; ``recv`` raises
    :class:`ChannelClosed` once the peer has gone and ``TimeoutError`` when a
    timeout is given and nothing arrives in time.
    """

    def __init__(self, sock):
        self.sock = sock
        self._pending = collections.deque()   # messages read early while draining releases
        self._slots = {}                      # sender side: slot id -> _Slot
        self._free = []                       # sender side: free slot ids
        self._next_slot = 0
        self._maps = {}                       # receiver side: slot id -> memoryview of the mapping
        self._to_release = []                 # receiver side: slots copied out, not yet handed back

    def fileno(self):
        """The socket's file descriptor (for poll/select)."""
        return self.sock.fileno()

    @property
    def closed(self):
        """True once :meth:`close` was called."""
        return self.sock.fileno() == -1

    def close(self):
        """Close the socket and release every shared-memory slot and mapping."""
        try:
            self.sock.close()
        except OSError:
            pass
        for slot in self._slots.values():
            try:
                slot.close()
            except (OSError, BufferError):
                pass
        self._slots.clear()
        self._free.clear()
        for view in self._maps.values():
            try:
                view.release()
            except BufferError:
                pass
        self._maps.clear()

    def __reduce__(self):
        # Used by spawn/forkserver: multiprocessing's pickler knows how to send a socket.
        return (SocketChannel, (self.sock,))

    # -- sending ----------------------------------------------------------------------------

    def send(self, obj, slab=False):
        """Send ``obj``; with ``slab`` large buffers go through reusable shared slots."""
        payload, big = _dumps(obj)
        if not big and payload.nbytes <= _INLINE_MAX:
            if self._to_release:
                ids = self._to_release
                self._to_release = []
                self.sock.sendmsg([b"T", _ID.pack(len(ids)), *[_ID.pack(i) for i in ids], payload])
            else:
                self.sock.sendmsg([b"I", payload])
            return
        self.flush_releases()
        payload_in, places, size = _layout(payload, big)
        if slab:
            self._send_slot(payload, big, payload_in, places, size)
        else:
            self._send_oneoff(payload, big, payload_in, places, size)

    def _send_oneoff(self, payload, big, payload_in, places, size):
        fd = os.memfd_create("ember-msg", os.MFD_CLOEXEC)
        try:
            os.ftruncate(fd, max(size, 1))
            if payload_in:
                _write_all(fd, payload, 0)
            for off, buf in zip(places, big):
                _write_all(fd, buf, off)
            parts = [b"M", _ONEOFF_HEAD.pack(payload_in, payload.nbytes, size, len(big))]
            parts += [_PAIR.pack(off, buf.nbytes) for off, buf in zip(places, big)]
            if not payload_in:
                parts.append(payload)
            self.sock.sendmsg(parts, [(socket.SOL_SOCKET, socket.SCM_RIGHTS, struct.pack("i", fd))])
        finally:
            os.close(fd)

    def _take_slot(self, size):
        """A free slot of at least ``size`` bytes (a new one if needed) and the ids dropped for it."""
        if not self._free:
            self._drain_releases()
        best = None
        for sid in self._free:
            s = self._slots[sid].size
            if s >= size and (best is None or s < self._slots[best].size):
                best = sid
        dropped = []
        if best is None:
            # free slots that are too small would only pile up: drop them
            for sid in self._free:
                self._slots.pop(sid).close()
                dropped.append(sid)
            self._free.clear()
            rounded = max(_SLOT_ROUND, (size + _SLOT_ROUND - 1) // _SLOT_ROUND * _SLOT_ROUND)
            best = self._next_slot
            self._next_slot += 1
            self._slots[best] = _Slot(best, rounded)
        else:
            self._free.remove(best)
        return self._slots[best], dropped

    def _send_slot(self, payload, big, payload_in, places, size):
        slot, dropped = self._take_slot(size)
        view = slot.view
        if payload_in:
            view[:payload.nbytes] = payload
        for off, buf in zip(places, big):
            view[off:off + buf.nbytes] = buf
        new = not slot.announced
        parts = [b"S", _SLOT_HEAD.pack(slot.id, slot.size, new, payload_in, payload.nbytes, len(big), len(dropped))]
        parts += [_PAIR.pack(off, buf.nbytes) for off, buf in zip(places, big)]
        parts += [_ID.pack(d) for d in dropped]
        if not payload_in:
            parts.append(payload)
        if new:
            self.sock.sendmsg(parts, [(socket.SOL_SOCKET, socket.SCM_RIGHTS, struct.pack("i", slot.fd))])
            slot.announced = True
        else:
            self.sock.sendmsg(parts)

    def flush_releases(self):
        """Hand back every slot copied out so far (normally they ride on the next message)."""
        if self._to_release:
            ids = self._to_release
            self._to_release = []
            self.sock.sendmsg([b"R", *[_ID.pack(i) for i in ids]])

    def _drain_releases(self):
        """Read whatever has arrived without waiting; keep the non-release messages for recv()."""
        while True:
            try:
                raw = self.sock.recvmsg(_RECV_MAX, _FD_ANC, socket.MSG_DONTWAIT)
            except (BlockingIOError, InterruptedError):
                return
            except ConnectionResetError:
                self._pending.append((b"", [], 0, None))
                return
            if not raw[0]:
                self._pending.append(raw)  # EOF: recv() reports it
                return
            kind = raw[0][0]
            if kind == _RELEASE:
                self._release(raw[0])
            elif kind == _RELEASE_INLINE:
                body = self._release_inline(raw[0])
                self._pending.append((b"I" + bytes(body), raw[1], raw[2], raw[3]))
            else:
                self._pending.append(raw)

    def _release(self, msg):
        for (sid,) in _ID.iter_unpack(memoryview(msg)[1:]):
            self._free_slot(sid)

    def _free_slot(self, sid):
        if sid in self._slots and sid not in self._free:
            self._free.append(sid)

    def _release_inline(self, msg):
        """Apply the releases of a 'T' message; return its pickle."""
        view = memoryview(msg)
        (count,) = _ID.unpack_from(view, 1)
        pos = 1 + _ID.size
        for _ in range(count):
            (sid,) = _ID.unpack_from(view, pos)
            pos += _ID.size
            self._free_slot(sid)
        return view[pos:]

    # -- receiving ----------------------------------------------------------------------------

    def poll(self, timeout):
        """Wait up to ``timeout`` seconds (None: forever) until a message can be read."""
        if self._pending:
            return True
        r, _, _ = select.select([self.sock], [], [], timeout)
        return bool(r)

    def recv(self, timeout=None):
        """The next object from the peer (see the class docstring for errors)."""
        while True:
            if self._pending:
                msg, anc, flags, _ = self._pending.popleft()
            else:
                if timeout is not None and not self.poll(timeout):
                    raise TimeoutError
                try:
                    msg, anc, flags, _ = self.sock.recvmsg(_RECV_MAX, _FD_ANC)
                except ConnectionResetError:  # the peer closed with messages still unread
                    raise ChannelClosed("the other end of the channel is closed") from None
            fds = _fds_from(anc)
            if not msg:
                for fd in fds:
                    os.close(fd)
                raise ChannelClosed("the other end of the channel is closed")
            if flags & (socket.MSG_TRUNC | getattr(socket, "MSG_CTRUNC", 0)):
                for fd in fds:
                    os.close(fd)
                raise RuntimeError("DataLoader: a message between processes was truncated")
            kind = msg[0]
            if kind == _INLINE:
                return pickle.loads(memoryview(msg)[1:])
            if kind == _RELEASE_INLINE:
                return pickle.loads(self._release_inline(msg))
            if kind == _SLOT:
                return self._recv_slot(msg, fds)
            if kind == _ONEOFF:
                return self._recv_oneoff(msg, fds)
            if kind == _RELEASE:
                self._release(msg)
                continue
            raise RuntimeError(f"DataLoader: unknown message kind {kind!r}")

    def _recv_oneoff(self, msg, fds):
        fd = fds[0]
        for extra in fds[1:]:
            os.close(extra)
        view = memoryview(msg)
        payload_in, payload_len, size, count = _ONEOFF_HEAD.unpack_from(view, 1)
        pos = 1 + _ONEOFF_HEAD.size
        try:
            mv = memoryview(mmap.mmap(fd, max(size, 1), flags=_MAP_FLAGS))
        finally:
            os.close(fd)
        buffers = []
        for _ in range(count):
            off, n = _PAIR.unpack_from(view, pos)
            pos += _PAIR.size
            buffers.append(mv[off:off + n])
        payload = mv[:payload_len] if payload_in else view[pos:pos + payload_len]
        return pickle.loads(payload, buffers=buffers)

    def _recv_slot(self, msg, fds):
        view = memoryview(msg)
        sid, size, new, payload_in, payload_len, count, ndropped = _SLOT_HEAD.unpack_from(view, 1)
        pos = 1 + _SLOT_HEAD.size
        pairs = []
        for _ in range(count):
            pairs.append(_PAIR.unpack_from(view, pos))
            pos += _PAIR.size
        for _ in range(ndropped):
            (gone,) = _ID.unpack_from(view, pos)
            pos += _ID.size
            old = self._maps.pop(gone, None)
            if old is not None:
                old.release()
        if new:
            fd = fds[0]
            for extra in fds[1:]:
                os.close(extra)
            try:
                self._maps[sid] = memoryview(mmap.mmap(fd, size, flags=_MAP_FLAGS))
            finally:
                os.close(fd)
        else:
            for fd in fds:
                os.close(fd)
        mv = self._maps[sid]
        try:
            buffers = []
            for off, n in pairs:
                out = np.empty(n, dtype=np.uint8)
                out[:] = np.frombuffer(mv, dtype=np.uint8, count=n, offset=off)
                buffers.append(out)
            payload = bytes(mv[:payload_len]) if payload_in else view[pos:pos + payload_len]
        finally:
            # handed back with the next message to this peer (a task, usually)
            self._to_release.append(sid)
        return pickle.loads(payload, buffers=buffers)


class PipeChannel:
    """Fallback channel over a ``multiprocessing`` duplex pipe (ordinary in-band pickles)."""

    def __init__(self, conn):
        self.conn = conn

    def fileno(self):
        """The pipe's file descriptor (for poll/select)."""
        return self.conn.fileno()

    def close(self):
        """Close the pipe."""
        try:
            self.conn.close()
        except OSError:
            pass

    @property
    def closed(self):
        """True once :meth:`close` was called."""
        return self.conn.closed

    def send(self, obj, slab=False):
        """Send ``obj`` as one pickle (``slab`` is ignored)."""
        self.conn.send_bytes(pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL))

    def poll(self, timeout):
        """Wait up to ``timeout`` seconds until a message can be read."""
        return self.conn.poll(timeout)

    def recv(self, timeout=None):
        """The next object; ChannelClosed when the peer is gone, TimeoutError after ``timeout``."""
        if timeout is not None and not self.conn.poll(timeout):
            raise TimeoutError
        try:
            data = self.conn.recv_bytes()
        except (EOFError, OSError):
            raise ChannelClosed("the other end of the channel is closed") from None
        return pickle.loads(data)


def channel_pair():
    """Return ``(parent_end, child_end)``, two connected channels."""
    if _HAVE_MEMFD:
        a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        parent, child = SocketChannel(a), SocketChannel(b)
    else:
        import multiprocessing
        a, b = multiprocessing.Pipe(duplex=True)
        parent, child = PipeChannel(a), PipeChannel(b)
    _parent_ends.add(parent)
    return parent, child


def close_inherited_parent_ends():
    """In a freshly forked worker: close the parent-side channels copied from the parent."""
    for ch in list(_parent_ends):
        ch.close()
    _parent_ends.clear()
