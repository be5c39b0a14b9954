#!/usr/bin/env bash
# pydicom 3 with pydicom-data (real DICOM files, among them a CR chest radiograph stored as
# JPEG 2000) and an OpenJPEG plugin, in .cache/dicom-venv: what Tests/Fixtures/dicom's script
# renders our fixtures with, and where the DICOM tests find the real files. Idempotent; prints
# the interpreter. About 60 MB the first time.
set -euo pipefail
cd "$(dirname "$0")/.."
exec scripts/venv.sh .cache/dicom-venv "import pydicom, data_store, numpy, pylibjpeg, openjpeg; assert pydicom.__version__ == '3.0.2'" \
    pydicom==3.0.2 pydicom-data==1.0.0 numpy pylibjpeg==2.0.1 pylibjpeg-openjpeg==2.4.0
