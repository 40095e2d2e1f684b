/*
 * version.c - which library is running (switchboard.h: swb_version).
 *
 * Layer: common; called by: programs. The numbers come from the build (CMake's project
 * version), not from the header, so a program can tell the library it runs with from the one
 * it was built against.
 */
#include "swbi.h"

const char *swb_version(int *major, int *minor, int *patch)
{
    if (major)
        *major = SWB_LIB_VERSION_MAJOR;
    if (minor)
        *minor = SWB_LIB_VERSION_MINOR;
    if (patch)
        *patch = SWB_LIB_VERSION_PATCH;
    return SWB_LIB_VERSION;
}
