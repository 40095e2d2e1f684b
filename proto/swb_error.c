/*
 * swb_error.c - names and texts of the error codes, generated from SWB_ERROR_TABLE.
 *
 * Switches rather than arrays because the codes are sparse negative numbers; the compiler
 * turns each into a jump table, and a duplicate value in the table fails to compile.
 */
#include "swb_error.h"

const char *swb_strerror(int code)
{
    switch (code) {
#define SWB_X_TEXT(sym, val, name, text)                                                           \
    case (val):                                                                                    \
        return (text);
        SWB_ERROR_TABLE(SWB_X_TEXT)
#undef SWB_X_TEXT
    default:
        return "unknown error";
    }
}

const char *swb_errname(int code)
{
    switch (code) {
#define SWB_X_NAME(sym, val, name, text)                                                           \
    case (val):                                                                                    \
        return (name);
        SWB_ERROR_TABLE(SWB_X_NAME)
#undef SWB_X_NAME
    default:
        return "unknown";
    }
}

int swb_err_known(int code)
{
    switch (code) {
#define SWB_X_KNOWN(sym, val, name, text) case (val):
        SWB_ERROR_TABLE(SWB_X_KNOWN)
#undef SWB_X_KNOWN
        return 1;
    default:
        return 0;
    }
}
