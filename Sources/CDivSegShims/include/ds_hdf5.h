#ifndef DS_HDF5_H
#define DS_HDF5_H
#include <hdf5.h>
#endif
