#ifndef DS_IMAGE_H
#define DS_IMAGE_H
#include <stddef.h>
#include <stdint.h>
#endif
