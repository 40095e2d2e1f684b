/*
 * fuzz_header.c - libFuzzer target for the header decoder.
 *
 * Any input must decode or fail cleanly (ASan/UBSan watch the reads); an input that decodes
 * must survive a round trip: encode it, decode that, and get the same header back, and the
 * second encoding must be byte for byte the first (the encoding is canonical). The prefix
 * decoder (a header with an inline body after it) must agree with the strict one: where the
 * strict one accepts, it takes the whole input; where it accepts, the strict one accepts the
 * bytes it took, with the same fields. Anything else aborts so the fuzzer keeps the input. The same
 * function runs in ctest through replay_main.c.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "header_eq.h"
#include "swb_proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fail(const char *what, int rc)
{
    fprintf(stderr, "fuzz_header: %s (%d %s)\n", what, rc, swb_errname(rc));
    abort();
}

static void check_prefix(const uint8_t *data, size_t size, int strict_rc)
{
    swb_header_t hp, hs;
    size_t hlen = 0;
    int rc = swb_header_decode_prefix(data, size, &hp, &hlen);
    if (rc != SWB_OK) {
        if (!swb_err_known(rc) || rc >= 0)
            fail("prefix decoder returned a code outside the table", rc);
        if (strict_rc == SWB_OK)
            fail("prefix decoder refuses what the strict one accepts", rc);
        if (hlen != 0)
            fail("prefix decoder gave a length with its error", (int)hlen);
        return;
    }
    if (hlen == 0 || hlen > size || hlen > SWB_MAX_HEADER)
        fail("prefix length out of range", (int)hlen);
    if (strict_rc == SWB_OK && hlen != size)
        fail("prefix decoder stopped early on a whole header", (int)hlen);
    if ((rc = swb_header_decode(data, hlen, &hs)) != SWB_OK)
        fail("the strict decoder refuses the prefix", rc);
    if (swbt_header_diff(&hp, &hs) >= 0)
        fail("prefix and strict decoders differ in field", swbt_header_diff(&hp, &hs));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    swb_header_t h1, h2;
    int rc = swb_header_decode(data, size, &h1);
    check_prefix(data, size, rc);
    if (rc != SWB_OK) {
        if (!swb_err_known(rc) || rc >= 0)
            fail("decoder returned a code outside the table", rc);
        return 0;
    }
    static uint8_t b1[SWB_MAX_HEADER], b2[SWB_MAX_HEADER];
    size_t n1, n2;
    if ((rc = swb_header_encode(&h1, b1, sizeof b1, &n1)) != SWB_OK)
        fail("a decoded header does not encode", rc);
    if (n1 > size)
        fail("the encoding is longer than the input it came from", (int)n1);
    if ((rc = swb_header_decode(b1, n1, &h2)) != SWB_OK)
        fail("an encoded header does not decode", rc);
    if (swbt_header_diff(&h1, &h2) >= 0)
        fail("the round trip changed field", swbt_header_diff(&h1, &h2));
    if ((rc = swb_header_encode(&h2, b2, sizeof b2, &n2)) != SWB_OK)
        fail("a re-decoded header does not encode", rc);
    if (n1 != n2 || memcmp(b1, b2, n1) != 0)
        fail("the encoding is not canonical", 0);
    return 0;
}
