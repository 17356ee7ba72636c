"""``python -m benchmarks`` (in a checkout): the side-by-side suite, as ``stencilpy bench``."""
import sys

from stencilpy.bench.run import main

if __name__ == "__main__":
    sys.exit(main())
