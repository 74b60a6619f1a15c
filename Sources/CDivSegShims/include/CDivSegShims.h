// Umbrella header of the C shim layer: the parts of HDF5, libpng and libjpeg that Swift
// cannot call directly (macro constants, setjmp/longjmp error handling).
#ifndef CDIVSEG_SHIMS_H
#define CDIVSEG_SHIMS_H
#include "ds_hdf5.h"
#include "ds_image.h"
#include "ds_files.h"
#endif
