"""A minimal in-process loader for the object code of cached kernels (x86-64 ELF).

A warm start must not pay for importing ``llvmlite.binding`` (loading the
~180 MB LLVM library and wrapping its C API costs 20-60 ms, the whole latency
budget).  The object files LLVM emits for our kernels (static relocation
model, JIT code model "large") are simple: a few code and read-only data
sections and absolute 64-bit relocations (``movabs`` of a constant-pool or
C-library address).  This module places such an object in fresh memory,
applies its relocations, makes it executable and returns the entry address —
what MCJIT does for it, in ~1 ms and without LLVM.

It accepts only what it fully understands: ELF64, little endian, x86-64,
relocatable; allocatable sections that are not writable; RELA relocations of
types ``R_X86_64_64``, ``PC32``, ``PLT32`` and ``PC64`` (PC-relative ones only
when the result fits); symbols that are local to the object, absolute, or
found in the C math/C library.  Anything else raises ``Unsupported`` and the
caller falls back to MCJIT.  Unwind tables (``.eh_frame``) are not loaded:
kernels never raise.  Linux only (``mmap``/``mprotect`` via ctypes); the
memory is released when the returned ``Image`` is garbage collected.

The payload handed in has already passed the cache's sha256 check; this
loader additionally bounds-checks every offset it reads or writes, so a
malformed file is rejected rather than followed.
"""

from __future__ import annotations

import ctypes
import mmap
import struct
import sys
import weakref

__all__ = ["Image", "Malformed", "Unsupported", "available", "load_object"]

_EHDR = struct.Struct("<16sHHIQQQIHHHHHH")
_SHDR = struct.Struct("<IIQQQQIIQQ")
_SYM = struct.Struct("<IBBHQQ")
_RELA = struct.Struct("<QQq")

_ET_REL, _EM_X86_64 = 1, 62
_SHT_SYMTAB, _SHT_RELA, _SHT_NOBITS, _SHT_REL = 2, 4, 8, 9
_SHF_WRITE, _SHF_ALLOC = 0x1, 0x2
_SHN_UNDEF, _SHN_LORESERVE, _SHN_ABS = 0, 0xFF00, 0xFFF1
_R_64, _R_PC32, _R_PLT32, _R_PC64 = 1, 2, 4, 24
_SKIPPED = (".eh_frame",)
_PAGE = mmap.PAGESIZE
_MAX_SECTION = 1 << 30


class Unsupported(Exception):
    """The object uses something this loader does not handle (use MCJIT instead)."""


class Malformed(Unsupported):
    """The bytes are not a well-formed x86-64 ELF object (a damaged file: rebuild it;
    never hand it to MCJIT, which does not validate object files)."""


def available() -> bool:
    """True on Linux x86-64, the only platform this loader handles."""
    import platform

    return sys.platform.startswith("linux") and platform.machine() in ("x86_64", "AMD64")


class _Libc:
    """``mmap``/``mprotect``/``munmap`` and symbol lookup, bound once."""

    def __init__(self):
        libc = ctypes.CDLL(None, use_errno=True)
        self.mmap = libc.mmap
        self.mmap.restype = ctypes.c_void_p
        self.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int,
                              ctypes.c_int, ctypes.c_long]
        self.mprotect = libc.mprotect
        self.mprotect.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
        self.munmap = libc.munmap
        self.munmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
        self.libs = [ctypes.CDLL("libm.so.6"), libc]

    def symbol(self, name: str) -> int:
        for lib in self.libs:
            try:
                address = ctypes.cast(getattr(lib, name), ctypes.c_void_p).value
            except AttributeError:
                continue
            if address:
                return address
        raise Unsupported(f"undefined symbol '{name}'")


_libc: _Libc | None = None


def _lib() -> _Libc:
    global _libc
    if _libc is None:
        _libc = _Libc()
    return _libc


class Image:
    """Loaded code: ``address(name)`` of a global symbol; memory lives as long as this."""

    def __init__(self, base: int, size: int, symbols: dict[str, int]):
        self.base, self.size, self._symbols = base, size, symbols
        self._finalizer = weakref.finalize(self, _lib().munmap, base, size)
        self._finalizer.atexit = False   # at exit the OS reclaims it; a late kernel call stays safe

    def address(self, name: str) -> int:
        try:
            return self._symbols[name]
        except KeyError:
            raise Unsupported(f"symbol '{name}' not defined in the object") from None


def _read(data: bytes, st: struct.Struct, offset: int) -> tuple:
    if offset < 0 or offset + st.size > len(data):
        raise Malformed("truncated object file")
    return st.unpack_from(data, offset)


def _cstr(data: bytes, offset: int) -> str:
    end = data.find(b"\0", offset)
    if offset < 0 or end < 0:
        raise Malformed("bad string table offset")
    try:
        return data[offset:end].decode("ascii")
    except UnicodeDecodeError:
        raise Malformed("non-ASCII name") from None


def _sections(data: bytes) -> list[tuple]:
    ident, etype, machine, _, _, _, shoff, _, _, _, _, shentsize, shnum, _ = _read(data, _EHDR, 0)
    if ident[:4] != b"\x7fELF" or ident[4] != 2 or ident[5] != 1:
        raise Malformed("not a 64-bit little-endian ELF file")
    if etype != _ET_REL or machine != _EM_X86_64 or shentsize != _SHDR.size:
        raise Unsupported("not an x86-64 relocatable object")
    return [_read(data, _SHDR, shoff + k * _SHDR.size) for k in range(shnum)]


def _layout(data: bytes, shdrs: list, names: list[str]) -> tuple[dict[int, int], int]:
    """Offset of every loaded section in the image, and the image size."""
    offsets, size = {}, 0
    for k, sh in enumerate(shdrs):
        _, stype, flags, _, sh_off, sh_size, _, _, align, _ = sh
        if not flags & _SHF_ALLOC or names[k] in _SKIPPED:
            continue
        if (stype != _SHT_NOBITS and sh_off + sh_size > len(data)) or sh_size > _MAX_SECTION:
            raise Malformed(f"section '{names[k]}' outside the file")
        if flags & _SHF_WRITE:
            raise Unsupported(f"writable section '{names[k]}'")
        align = max(int(align), 1)
        if align & (align - 1) or align > _PAGE:
            raise Unsupported(f"alignment {align} of section '{names[k]}'")
        size = (size + align - 1) & ~(align - 1)
        offsets[k] = size
        size += sh_size
    return offsets, max(size, 1)


def _symbols(data: bytes, shdrs: list) -> tuple[list[tuple], int]:
    tabs = [k for k, sh in enumerate(shdrs) if sh[1] == _SHT_SYMTAB]
    if len(tabs) != 1:
        raise Malformed("expected exactly one symbol table")
    _, _, _, _, off, size, link, _, _, _ = shdrs[tabs[0]]
    syms = [_read(data, _SYM, off + k * _SYM.size) for k in range(size // _SYM.size)]
    if not 0 <= link < len(shdrs):
        raise Malformed("bad symbol string table")
    return syms, shdrs[link][4]


def _symbol_value(sym, strtab: int, data: bytes, base: int, offsets: dict[int, int]) -> int:
    name_off, _, _, shndx, value, _ = sym
    if shndx == _SHN_UNDEF:
        return _lib().symbol(_cstr(data, strtab + name_off))
    if shndx == _SHN_ABS:
        return value
    if shndx >= _SHN_LORESERVE or shndx not in offsets:
        raise (Unsupported if shndx < _SHN_LORESERVE else Malformed)(
            "symbol in a section that is not loaded")
    return base + offsets[shndx] + value


def _relocate(image: bytearray, data: bytes, shdrs: list, offsets, syms, strtab, base) -> None:
    for sh in shdrs:
        if sh[1] == _SHT_REL:
            raise Unsupported("REL relocations")
        if sh[1] != _SHT_RELA:
            continue
        _, _, _, _, off, size, _, target, _, _ = sh
        if not 0 <= target < len(shdrs):
            raise Malformed("relocation section without a target")
        if target not in offsets:
            continue  # relocations of a section we do not load (unwind tables, notes)
        start, end = offsets[target], offsets[target] + shdrs[target][5]
        for k in range(size // _RELA.size):
            r_offset, r_info, addend = _read(data, _RELA, off + k * _RELA.size)
            rtype, isym = r_info & 0xFFFFFFFF, r_info >> 32
            if isym >= len(syms):
                raise Malformed("relocation against a missing symbol")
            s = _symbol_value(syms[isym], strtab, data, base, offsets)
            where = start + r_offset
            p = base + where
            if rtype == _R_64:
                _patch(image, where, "<Q", (s + addend) & 0xFFFFFFFFFFFFFFFF, end)
            elif rtype == _R_PC64:
                _patch(image, where, "<q", s + addend - p, end)
            elif rtype in (_R_PC32, _R_PLT32):
                value = s + addend - p
                if not -(1 << 31) <= value < (1 << 31):
                    raise Unsupported("32-bit PC-relative relocation out of range")
                _patch(image, where, "<i", value, end)
            else:
                raise Unsupported(f"relocation type {rtype}")


def _patch(image: bytearray, where: int, fmt: str, value: int, end: int) -> None:
    """Write ``value`` at image offset ``where``, which must lie inside its section."""
    if where + struct.calcsize(fmt) > min(end, len(image)):
        raise Malformed("relocation outside its section")
    struct.pack_into(fmt, image, where, value)


def load_object(data: bytes) -> Image:
    """Load relocatable object code ``data``; raise ``Unsupported`` if it cannot be."""
    shdrs = _sections(data)
    shstr = _read(data, _EHDR, 0)[13]
    if not 0 <= shstr < len(shdrs):
        raise Malformed("bad section name table")
    names = [_cstr(data, shdrs[shstr][4] + sh[0]) for sh in shdrs]
    offsets, size = _layout(data, shdrs, names)
    size = (size + _PAGE - 1) & ~(_PAGE - 1)
    syms, strtab = _symbols(data, shdrs)
    libc = _lib()
    base = libc.mmap(None, size, mmap.PROT_READ | mmap.PROT_WRITE,
                     mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS, -1, 0)
    if base is None or base == ctypes.c_void_p(-1).value:
        raise Unsupported(f"mmap failed (errno {ctypes.get_errno()})")
    try:
        image = bytearray(size)
        for k, off in offsets.items():
            _, stype, _, _, sh_off, sh_size, _, _, _, _ = shdrs[k]
            if stype != _SHT_NOBITS:
                if sh_off + sh_size > len(data):
                    raise Malformed("section outside the file")
                image[off:off + sh_size] = data[sh_off:sh_off + sh_size]
        _relocate(image, data, shdrs, offsets, syms, strtab, base)
        exported = {}
        for sym in syms:
            if sym[1] >> 4 != 0 and sym[3] != _SHN_UNDEF:  # global or weak, defined here
                exported[_cstr(data, strtab + sym[0])] = _symbol_value(sym, strtab, data, base,
                                                                        offsets)
        ctypes.memmove(base, bytes(image), size)
        if libc.mprotect(base, size, mmap.PROT_READ | mmap.PROT_EXEC) != 0:
            raise Unsupported(f"mprotect failed (errno {ctypes.get_errno()})")
    except BaseException:
        libc.munmap(base, size)
        raise
    return Image(base, size, exported)
