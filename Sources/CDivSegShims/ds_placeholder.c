#include "CDivSegShims.h"
