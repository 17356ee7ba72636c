"""The kernels in pystencils 2 (when installed), in two variants that are both peers:

* ``pystencils`` — pystencils' own vectoriser (``cpu.vectorize.enable``: explicit SIMD
  intrinsics for the widest vector ISA the CPU flags show, AVX-512 / AVX2 / SSE);
* ``pystencils-autovec`` — the plain scalar loop nest, left to gcc's auto-vectoriser.

Both are compiled by pystencils' CPU JIT with gcc ``-O3 -march=native -fopenmp`` (the flags of
the C peer; pystencils' default ``-Ofast`` would allow fast-math reassociation that the other
implementations do not get) and run with OpenMP (``num_threads`` is compiled into the kernel,
so there is one compiled kernel per thread count). hdiff is three kernels with full-size
temporary fields (Laplacian, limited fluxes, update); pystencils' vectoriser has no vector form
of the limiter's select, so only the auto-vectorised variant runs it. MPDATA (periodic, three
passes) has no pystencils version here and is reported as skipped.
"""
import functools
import warnings

import numpy as np

from .impl import Impl, Unavailable

try:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pystencils as ps
        import sympy
        from pystencils.jit.cpu.compiler_info import GccInfo
        from pystencils.jit.cpu.cpujit import CpuJit
except Exception as exc:             # noqa: BLE001 - any import failure means "skip"
    ps = None
    _IMPORT_ERROR = exc
else:
    _IMPORT_ERROR = None

VARIANTS = {"pystencils": True, "pystencils-autovec": False}    # name -> own vectoriser


def _cpu_flags():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def vector_target():
    """The widest x86 vector target the CPU flags show (pystencils' own detection needs the
    optional py-cpuinfo package); None when there is none (not x86)."""
    flags = _cpu_flags()
    if "avx512f" in flags:
        return ps.Target.X86_AVX512
    if "avx2" in flags and "fma" in flags:
        return ps.Target.X86_AVX
    if "sse4_1" in flags:
        return ps.Target.X86_SSE
    return None


@functools.lru_cache(maxsize=None)
def _jit():
    return CpuJit(GccInfo(optlevel="3", target=ps.Target.CurrentCPU))


def _limit(f, du):
    """Flux limiter: 0 where the flux runs up the gradient (f * du > 0), else f."""
    return sympy.Piecewise((0.0, f * du > 0), (f, True))


def _assignments(kernel, dtype, coeff=None):
    """(assignments, iteration slice) of one kernel at one dtype."""
    if kernel == "lap2d":
        u, o = ps.fields(f"u, o: {dtype}[2D]", layout="c")
        rhs = u[1, 0] + u[-1, 0] + u[0, 1] + u[0, -1] - 4.0 * u[0, 0]
        return [ps.Assignment(o[0, 0], rhs)], ps.make_slice[1:-1, 1:-1]
    if kernel == "lap3d":
        u, o = ps.fields(f"u, o: {dtype}[3D]", layout="c")
        rhs = (u[1, 0, 0] + u[-1, 0, 0] + u[0, 1, 0] + u[0, -1, 0] + u[0, 0, 1] + u[0, 0, -1]
               - 6.0 * u[0, 0, 0])
        return [ps.Assignment(o[0, 0, 0], rhs)], ps.make_slice[1:-1, 1:-1, 1:-1]
    if kernel == "hdiff_lap":
        u, lap = ps.fields(f"u, lap: {dtype}[3D]", layout="c")
        rhs = 4.0 * u[0, 0, 0] - (u[0, 1, 0] + u[0, -1, 0] + u[0, 0, 1] + u[0, 0, -1])
        return [ps.Assignment(lap[0, 0, 0], rhs)], ps.make_slice[:, 1:-1, 1:-1]
    if kernel == "hdiff_flux":
        u, lap, fx, fy = ps.fields(f"u, lap, fx, fy: {dtype}[3D]", layout="c")
        return [ps.Assignment(fx[0, 0, 0], _limit(lap[0, 1, 0] - lap[0, 0, 0],
                                                  u[0, 1, 0] - u[0, 0, 0])),
                ps.Assignment(fy[0, 0, 0], _limit(lap[0, 0, 1] - lap[0, 0, 0],
                                                  u[0, 0, 1] - u[0, 0, 0]))], \
            ps.make_slice[:, 1:-2, 1:-2]
    if kernel == "hdiff_out":
        u, fx, fy, o = ps.fields(f"u, fx, fy, o: {dtype}[3D]", layout="c")
        c = sympy.Symbol("coeff")
        rhs = u[0, 0, 0] - c * (fx[0, 0, 0] - fx[0, -1, 0] + fy[0, 0, 0] - fy[0, 0, -1])
        return [ps.Assignment(o[0, 0, 0], rhs)], ps.make_slice[:, 2:-2, 2:-2]
    raise KeyError(kernel)


@functools.lru_cache(maxsize=None)
def compiled(kernel, dtype, threads, vectorise):
    """The compiled pystencils kernel (a callable taking fields and symbols by name)."""
    assignments, islice = _assignments(kernel, dtype)
    target = vector_target() if vectorise else ps.Target.GenericCPU
    if target is None:
        raise Unavailable("no x86 vector target for pystencils' vectoriser on this CPU")
    cfg = ps.CreateKernelConfig(target=target, default_dtype=dtype, jit=_jit(),
                                iteration_slice=islice)
    cfg.cpu.openmp.enable = True
    cfg.cpu.openmp.num_threads = threads
    if vectorise:
        cfg.cpu.vectorize.enable = True
        cfg.cpu.vectorize.assume_inner_stride_one = True
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            kernel_ast = ps.create_kernel(assignments, cfg)
        except NotImplementedError as exc:      # e.g. no vector form of a select (PsTernary)
            raise Unavailable(f"pystencils' vectoriser cannot vectorise {kernel}: {exc}") from None
        return kernel_ast.compile()


def _binder(kernel, vectorise):
    def bind(args, out, threads):
        dtype = str(args[0].dtype)
        if kernel == "hdiff":
            return _bind_hdiff(args, out, threads, dtype, vectorise)
        return functools.partial(compiled(kernel, dtype, threads, vectorise), u=args[0], o=out)
    return bind


def _bind_hdiff(args, out, threads, dtype, vectorise):
    """Three kernels (Laplacian; limited fluxes; update) with full-size temporary fields, the
    usual pystencils form of a multi-stage stencil (one fused kernel recomputing the Laplacian
    at every flux point measured 8x slower than C)."""
    u, coeff = args[0], float(args[1])
    lap, fx, fy = (np.empty_like(u) for _ in range(3))
    k_lap, k_flux, k_out = (compiled(f"hdiff_{k}", dtype, threads, vectorise)
                            for k in ("lap", "flux", "out"))

    def run():
        k_lap(u=u, lap=lap)
        k_flux(u=u, lap=lap, fx=fx, fy=fy)
        k_out(u=u, fx=fx, fy=fy, o=out, coeff=coeff)
    return run


def _load(name):
    if ps is None:
        raise Unavailable(f"pystencils not importable: {_IMPORT_ERROR}")
    major = int(str(getattr(ps, "__version__", "0")).split(".")[0] or 0)
    if major < 2:
        raise Unavailable(f"pystencils {ps.__version__} found; the peer needs pystencils 2")
    vectorise = VARIANTS[name]
    if vectorise and vector_target() is None:
        raise Unavailable("no x86 vector target for pystencils' vectoriser on this CPU")
    return Impl(name, True, {k: _binder(k, vectorise) for k in ("lap2d", "lap3d", "hdiff")},
                skipped={"mpdata": "no pystencils version of the periodic three-pass MPDATA "
                                   "step in the suite"})


def load():
    """pystencils' own vectoriser."""
    return _load("pystencils")


def load_autovec():
    """The scalar pystencils loops, auto-vectorised by gcc."""
    return _load("pystencils-autovec")
