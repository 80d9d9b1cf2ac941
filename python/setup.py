"""pip install ./python: builds libhtc from ../src and the htcodec extension
with setuptools alone (no CMake). NumPy is optional at run time (arrays only)."""
import glob
import os
import re
import shutil
import subprocess
import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

# Per-file ISA flags, as the root CMakeLists.txt gives them.
ISA_FLAGS = {
    "_avx2.c": ["-mavx2", "-mfma", "-mbmi", "-mbmi2", "-mlzcnt", "-mpopcnt"],
    "_avx512.c": ["-mavx512f", "-mavx512bw", "-mavx512vl", "-mavx512dq", "-mavx2", "-mfma", "-mbmi",
                  "-mbmi2", "-mlzcnt", "-mpopcnt"],
    "_sse41.c": ["-msse4.1"],
}


def rel(path):
    return os.path.relpath(path, HERE)


class BuildExt(build_ext):
    """Compiles libhtc (and the DICOM layer when present) into a static
    library first, each file with its own ISA flags, then links the extension
    against it with anchors for the entry points the library has."""

    def build_extension(self, ext):
        cc = self.compiler
        tmp = os.path.join(self.build_temp, "libhtc")
        os.makedirs(tmp, exist_ok=True)
        lib_src = sorted(glob.glob(os.path.join(ROOT, "src", "**", "*.c"), recursive=True))
        dicom_h = os.path.join(ROOT, "dicom", "htc_dicom.h")
        if os.path.exists(dicom_h):
            lib_src += sorted(glob.glob(os.path.join(ROOT, "dicom", "*.c")))
        common = ["-std=c11", "-O2", "-fPIC", "-fvisibility=hidden"]
        macros = [("_GNU_SOURCE", None), ("HTC_HAVE_CUDA", "0")]
        incs = [os.path.join(ROOT, "include"), os.path.join(ROOT, "src"), os.path.join(ROOT, "dicom")]
        # Optional libraries of the DICOM layer, as the root CMakeLists.txt finds them.
        optional = []  # (macro, library)
        if os.path.exists(dicom_h):
            for header, macro, lib in (("zlib.h", "HTC_HAVE_ZLIB", "z"), ("jpeglib.h", "HTC_HAVE_JPEG", "jpeg")):
                if any(os.path.exists(os.path.join(d, header)) for d in ("/usr/include", "/usr/local/include")):
                    optional.append((macro, lib))
        objects = []
        for f in lib_src:
            flags = next((v for k, v in ISA_FLAGS.items() if f.endswith(k)), [])
            m = macros + ([(macro, "1") for macro, _ in optional] if os.sep + "dicom" + os.sep in f else [])
            objects += cc.compile([f], output_dir=tmp, macros=m, include_dirs=incs,
                                  extra_postargs=common + flags, depends=[])
        cc.create_static_lib(objects, "htc_py", output_dir=tmp)
        archive = cc.library_filename("htc_py", output_dir=tmp)
        ext.sources = list(ext.sources) + [self._anchor(archive, tmp)]
        ext.library_dirs = [tmp]
        ext.libraries = ["htc_py", "pthread", "m"] + [lib for _, lib in optional]
        if os.path.exists(dicom_h):
            ext.define_macros = list(ext.define_macros) + [("HTCPY_DICOM", "1")]
        super().build_extension(ext)

    def _anchor(self, archive, tmp):
        weak = open(os.path.join(HERE, "src", "weak.h")).read()
        names = re.findall(r"HTCPY_WEAK\(([a-z_0-9]+)\)", weak)
        nm = shutil.which("nm")
        defined = set()
        if nm:
            out = subprocess.run([nm, "-g", "--defined-only", archive], capture_output=True, text=True).stdout
            defined = {line.split()[-1] for line in out.splitlines() if len(line.split()) == 3}
        else:
            defined = set(names)  # no nm: assume all are there
        path = os.path.join(tmp, "htcpy_anchor.c")
        with open(path, "w") as fh:
            fh.write("#include <htc/htc.h>\nconst void *const htcpy_anchors[] = {\n")
            for n in names:
                if n in defined:
                    fh.write("    (const void *)&%s,\n" % n)
            fh.write("    0,\n};\n")
        return path


ext = Extension(
    "htcodec._htcodec",
    sources=[rel(p) for p in sorted(glob.glob(os.path.join(HERE, "src", "*.c")))],
    include_dirs=[os.path.join(ROOT, "include"), os.path.join(HERE, "src"), os.path.join(ROOT, "dicom")],
    extra_compile_args=["-std=c11", "-O2", "-fvisibility=hidden"],
    define_macros=[("_GNU_SOURCE", None)],
)

setup(
    name="htcodec",
    version="0.1.0",
    description="JPEG 2000 / HTJ2K decoding for medical images, with nvImageCodec's Python API",
    packages=["htcodec"],
    ext_modules=[ext],
    cmdclass={"build_ext": BuildExt},
    python_requires=">=3.10",
    extras_require={"arrays": ["numpy"]},
)
