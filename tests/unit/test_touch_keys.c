/* Keys of the touch lists (touch_store.c): an advertising id in UUID normal form (lower-case
 * hex) is stored as its 16 bytes, any other spelling as it is; the key layout is what the
 * LMDB store holds, so it must never change by accident. */
#include "attribution/touch_store.h"
#include "harness.h"

static atd_str s(const char *p) { return (atd_str){p, strlen(p)}; }

static void test_uuid_becomes_16_bytes(void)
{
    char key[ATD_KEY_MAX];
    size_t kl = atd_key_touch_adid(key, s("app"), s("0123abcd-ef45-6789-abcd-ef0123456789"));
    static const unsigned char want[] = {'U', 16, 0x01, 0x23, 0xab, 0xcd, 0xef, 0x45,
                                         0x67, 0x89, 0xab, 0xcd, 0xef, 0x01, 0x23, 0x45,
                                         0x67, 0x89, 'a',  'p',  'p'};
    CHECK_EQ_INT(kl, sizeof want);
    CHECK(memcmp(key, want, sizeof want) == 0);
}

static void test_other_spellings_kept_as_text(void)
{
    const char *ids[] = {
        "0123ABCD-ef45-6789-abcd-ef0123456789", /* upper case: not the normal form */
        "0123abcd-ef45-6789-abcd-ef012345678g", /* a non-hex digit, last */
        "g123abcd-ef45-6789-abcd-ef0123456789", /* ...first */
        "0123abcd-ef45-6789-abcd-ef01234567\x80" "9",
        "0123abcdef45-6789-abcd-ef0123456789-", /* dashes elsewhere */
        "0123abcd-ef45-6789-abcd-ef012345678",  /* 35 characters */
    };
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
        char key[ATD_KEY_MAX];
        size_t n = strlen(ids[i]);
        size_t kl = atd_key_touch_adid(key, s("app"), s(ids[i]));
        CHECK_EQ_INT(kl, 2 + n + 3);
        CHECK_EQ_INT(key[0], 'A');
        CHECK_EQ_INT((unsigned char)key[1], n);
        CHECK(memcmp(key + 2, ids[i], n) == 0);
        CHECK(memcmp(key + 2 + n, "app", 3) == 0);
    }
}

int main(void)
{
    RUN(test_uuid_becomes_16_bytes);
    RUN(test_other_spellings_kept_as_text);
    return atd_test_done();
}
