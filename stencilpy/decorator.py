"""``@sp.stencil``: the ``Stencil`` object a user calls.

    compiler = Compiler(pyfunc, dims)               # compile.py: parse, passes (analysis on use)
    call = self.bind(arguments)                     # signature.py: shapes, dtypes -> BoundCall
    execute(call, outs, compiler.kernel)            # runtime/: the kernel the driver built
                       | run_reference(call)        # reference/: the numpy oracle

Repeated calls go through ``runtime/fastpath.py``, which prepares a call once with the
same ``bind`` and ``compiler.kernel``.  Stencil errors raised to the user carry no
stencilpy frames (``errors.trim_traceback``).
"""

from __future__ import annotations

import functools
import inspect

import numpy as np

from stencilpy.compile import Compiler
from stencilpy.errors import (
    MismatchError, StencilCallError, StencilError, StencilSyntaxError, api_boundary,
    trim_traceback)
from stencilpy.ir.nodes import has_sweeps
from stencilpy.options import check_threads, normalize_boundary
from stencilpy.signature import bind, bind_arguments, check_out, split_arguments

BACKENDS = ("llvm", "numpy")
#: ``regions=``: each output on its own region (default), or every output on the common one
REGIONS = ("own", "common")


class Stencil:
    """A compiled stencil: call it like the function it decorates."""

    @api_boundary
    def __init__(self, pyfunc, dims=None, backend: str = "llvm", regions: str = "own"):
        if backend not in BACKENDS:
            raise StencilCallError(f"unknown backend {backend!r}; use one of {BACKENDS}")
        if regions not in REGIONS:
            raise StencilCallError(f"unknown regions={regions!r}; use 'own' (each output on "
                                   f"its own region) or 'common' (every output where all are "
                                   f"computable: one kernel, no per-output strips)")
        self.pyfunc = pyfunc
        self.backend = backend
        self.regions = regions
        self.dims_argument = dims           # as given to @sp.stencil (None: not declared)
        try:
            self.compiler = Compiler(pyfunc, dims, common_region=regions == "common")
        except RecursionError:   # the limits of frontend/limits.py make this rare
            raise _too_deep(getattr(pyfunc, "__name__", "?")) from None
        self._columns = has_sweeps(self.ir)
        functools.update_wrapper(self, pyfunc)
        self._fast = None                   # runtime.fastpath.FastPath, made on first call

    def __reduce__(self):
        # by reference when importable, else the function by value; rebuilt by the decorator
        from stencilpy.adapters.pickling import reduce_stencil
        return reduce_stencil(self)

    def __repr__(self) -> str:
        return f"<sp.stencil {self.ir.name}{self.signature} dims={self.dims} backend={self.backend!r}>"

    @property
    def ir(self):
        """The IR after the definition passes (``sp.inspect(k, "ir")``)."""
        return self.compiler.definition.ir

    @property
    def signature(self) -> str:
        return "(" + ", ".join(self.ir.param_names) + ")"

    @property
    def dims(self) -> tuple[str, ...]:
        return self.ir.dims

    @property
    def ndim(self) -> int:
        return self.ir.ndim

    @property
    def plan(self):
        """The frozen analysis (on first use: from the disk cache, else computed with sympy)."""
        return self.compiler.definition.plan

    @property
    def halo(self) -> tuple[tuple[int, int], ...]:
        """``(lo, hi)`` per stencil axis: how far the stencil reads from each point."""
        return self.plan.halo

    @property
    def output_halos(self) -> tuple[tuple[tuple[int, int], ...], ...]:
        """``halo`` of each output on its own (regions are exact per output: under "valid"
        an output is trimmed by its own halo, which may be smaller than ``halo``)."""
        def own(footprints):
            return tuple((max([0] + [e[d][0] for _, e in footprints]),
                          max([0] + [e[d][1] for _, e in footprints])) for d in range(self.ndim))
        return tuple(own(self.plan.footprints(k)) for k in range(self.n_outputs))

    @property
    def n_outputs(self) -> int:
        return len(self.ir.returns)

    # -- calling ---------------------------------------------------------------
    def __call__(self, *args, boundary=None, fill_value=None, out=None, domain=None,
                 threads=None, check=False, names=None, attrs=None, **kwargs):
        try:
            if names is not None or attrs is not None:       # DataArray results only
                return self._call_labelled(args, kwargs, names, attrs, boundary=boundary,
                                           fill_value=fill_value, out=out, domain=domain,
                                           threads=threads, check=check)
            if self.backend == "llvm" and domain is None and not check:
                try:                                         # prepared calls
                    result = (self._fast or self._fast_path())(args, kwargs, boundary,
                                                               fill_value, out, threads)
                except RecursionError:   # compiling a first call (frontend/limits.py: rare)
                    raise _too_deep(self.ir.name) from None
                if result is not self._fast.MISS:
                    return result
            try:
                return self._call_slow(args, kwargs, boundary, fill_value, out, domain,
                                       threads, check)
            except RecursionError:
                raise _too_deep(self.ir.name) from None
        except StencilError as err:
            trim_traceback(err)
            raise

    def _call_slow(self, args, kwargs, boundary, fill_value, out, domain, threads, check):
        values = bind_arguments(self.ir, args, kwargs)
        from stencilpy.adapters import dispatch
        adapter = dispatch(values.values(), out)
        if adapter is not None:
            return adapter(self, values, boundary=boundary, fill_value=fill_value, out=out,
                           domain=domain, threads=threads, check=check)
        return self.call_arrays(values, boundary=boundary, fill_value=fill_value, out=out,
                                domain=domain, threads=threads, check=check)

    def _call_labelled(self, args, kwargs, names, attrs, **options):
        values = bind_arguments(self.ir, args, kwargs)
        from stencilpy.adapters import dispatch
        from stencilpy.adapters.xarray import call_xarray
        if dispatch(values.values(), options["out"]) is not call_xarray:
            raise StencilCallError("names= and attrs= label DataArray results; the arguments "
                                   "are not DataArrays (drop names=/attrs=, or pass DataArrays)")
        return call_xarray(self, values, names=names, attrs=attrs, **options)

    @property
    def columns(self) -> bool:
        """Whether the stencil has sweeps (``with sp.forward/backward``)."""
        return self._columns

    def column_ir(self, args, kwargs, boundary) -> str:
        """LLVM IR of the column kernel for example arguments (default: float64 arrays of
        shape 16 x ... x 16), for ``sp.inspect``."""
        from stencilpy.reference.columns import source_tables
        from stencilpy.runtime.columns import column_ir
        if not args and not kwargs:
            args = [np.zeros((16,) * self.ndim) for _ in self.ir.params]
        call = self.bind(bind_arguments(self.ir, args, dict(kwargs)), boundary=boundary)
        return column_ir(call, source_tables(call))

    def _run_columns(self, call, outs=None) -> tuple:
        """A column stencil on the compiled backend: the blocked column kernel
        (``codegen/columns.py``) reading the fields in place through the reference's
        padding rule as index tables, then "fill"/"valid"; into ``outs`` (``out=``) directly
        where they overlap no input (``direct_outputs``), else into new arrays copied there."""
        from stencilpy.reference.columns import check_call_levels, source_tables
        from stencilpy.runtime.columns import direct_outputs, finish_columns, run_columns_kernel
        if call.is_empty and 0 in call.batch_shape + call.domain:
            return tuple(np.empty(s, dtype=dt) for s, dt in zip(call.out_shapes, call.out_dtypes))
        check_call_levels(call)
        return finish_columns(call, run_columns_kernel(call, source_tables(call),
                                                       direct_outputs(call, outs)))

    def _fast_path(self):
        from stencilpy.runtime.fastpath import FastPath
        self._fast = FastPath(self.ir.param_names, self._bind_with_outputs, self.compiler.kernel,
                              self._prepare_columns if self._columns else None)
        return self._fast

    def _prepare_columns(self, call, outs, names):
        """The fast path's prepared call of a column stencil (its level check raises the
        full path's error)."""
        from stencilpy.reference.columns import check_call_levels, source_tables
        from stencilpy.runtime.columns import PreparedColumns
        check_call_levels(call)
        return PreparedColumns(call, outs, names, source_tables(call))

    def _bind_with_outputs(self, values: dict, boundary, fill_value, threads, out):
        """The fast path's ``bind``: the call and its output arrays (``out=`` or new ones)."""
        call = self.bind(values, boundary, fill_value, None, threads, False, out)
        if out is not None:
            return call, check_out(out, call)
        return call, tuple(np.empty(shape, dt) for shape, dt in zip(call.out_shapes, call.out_dtypes))

    def bind(self, values: dict, boundary=None, fill_value=None, domain=None, threads=None,
             check=False, out=None):
        """Validate a call (numpy arrays and numbers); returns a ``BoundCall``.  GPU arrays
        (``__cuda_array_interface__``) are validated through host placeholders."""
        if _gpu_call(values.values(), out):
            if self.backend == "numpy":
                raise StencilCallError(
                    f"'{self.ir.name}' uses the numpy reference backend, which runs on host "
                    "arrays; pass host copies (cupy.asnumpy(x)) or use the default backend")
            from stencilpy.runtime.gpu.execute import host_values, placeholder_out
            values, out = host_values(values), placeholder_out(out)
        fields, scalars = split_arguments(self.ir, values)
        ir = self.compiler.call_ir(frozenset(scalars))
        modes = normalize_boundary(boundary, self.dims)
        return bind(ir, self.plan, fields, scalars, modes, fill_value, check_threads(threads),
                    bool(check), domain=domain, out=out, infer_types=self.compiler.infer_types)

    @api_boundary
    def call_arrays(self, values: dict, boundary=None, fill_value=None, out=None, domain=None,
                    threads=None, check=False):
        """Run on numpy arrays (or GPU arrays); returns an array or a tuple of arrays."""
        if self.backend == "llvm" and _gpu_call(values.values(), out):
            from stencilpy.runtime.gpu.execute import execute_gpu
            return execute_gpu(self, values, boundary=boundary, fill_value=fill_value, out=out,
                               domain=domain, threads=threads, check=check, verify=self._check)
        call = self.bind(values, boundary, fill_value, domain, threads, check, out)
        outs = check_out(out, call) if out is not None else None
        results = self._run(call, outs)
        if check:
            self._check(call, results)
        return results[0] if len(results) == 1 else results

    def _run(self, call, outs):
        if self.backend == "numpy":
            from stencilpy.reference import run_reference
            results = run_reference(call)
            if outs is None:
                return results
            for o, r in zip(outs, results):
                o[...] = r
            return outs
        if self._columns:
            results = self._run_columns(call, outs)
            if outs is None:
                return results
            for o, r in zip(outs, results):
                if r is not o:
                    o[...] = r
            return outs
        from stencilpy.runtime.execute import execute
        return execute(call, outs, self.compiler.kernel)

    def _check(self, call, results) -> None:
        from stencilpy.reference import run_reference
        expected = run_reference(call)
        for k, (got, want) in enumerate(zip(results, expected)):
            _compare(self.ir.name, k, got, want)

    @api_boundary
    def inspect(self, stage: str, *args, **kwargs) -> str:
        """``sp.inspect(self, stage, ...)``."""
        from stencilpy.inspection import inspect
        return inspect(self, stage, *args, **kwargs)


def _gpu_call(values, out) -> bool:
    """Whether a call has a GPU array (``__cuda_array_interface__``) among its arguments."""
    outs = out if isinstance(out, tuple) else (out,)
    return any(hasattr(v, "__cuda_array_interface__") and not isinstance(v, np.ndarray)
               for v in (*values, *outs))


def _too_deep(name: str) -> StencilSyntaxError:
    from stencilpy.frontend.limits import DEPTH_HINT
    return StencilSyntaxError(f"stencil '{name}' nests too deeply for the compiler (Python's "
                              "recursion limit was reached)", None, DEPTH_HINT)


def _compare(name: str, k: int, got: np.ndarray, want: np.ndarray) -> None:
    rtol = 1e-5 if got.dtype == np.float32 else 1e-10
    if got.dtype.kind == "f":
        ok = np.isclose(got, want, rtol=rtol, atol=rtol * 1e-3, equal_nan=True)
    else:
        ok = got == want
    if not ok.all():
        where = tuple(int(i) for i in np.argwhere(~ok)[0])
        raise MismatchError(
            f"'{name}' output {k} differs from the numpy reference at index {where}: "
            f"compiled {got[where]!r}, reference {want[where]!r} "
            f"({int((~ok).sum())} of {ok.size} points differ)")


@api_boundary
def stencil(pyfunc=None, *, dims=None, backend: str = "llvm", regions: str = "own"):
    """Decorate a function as a stencil (``@sp.stencil`` or ``@sp.stencil(dims=...)``).

    ``regions``: with several outputs, under "fill"/"valid" each output is computed on its
    own region ("own", the default) or all of them on the region where every output is
    computable ("common": one kernel per call, none for the extra strips of an output).

    >>> import numpy as np, stencilpy as sp
    >>> @sp.stencil
    ... def diff(u):
    ...     return u[1] - u[-1]
    >>> diff(np.arange(5.0) ** 2, boundary="valid")
    array([ 4.,  8., 12.])
    """
    if pyfunc is None:
        return functools.partial(stencil, dims=dims, backend=backend, regions=regions)
    if not callable(pyfunc) or not inspect.isfunction(getattr(pyfunc, "__wrapped__", pyfunc)):
        if not inspect.isfunction(pyfunc):
            raise StencilCallError("@sp.stencil decorates a function (def ...)")
    return Stencil(pyfunc, dims=dims, backend=backend, regions=regions)
