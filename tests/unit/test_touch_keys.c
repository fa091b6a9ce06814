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

/* The ip list's key: 'I', the length (5 or 17), the family, the address, the app; a key past
 * ATD_KEY_LONG is 'i' and the SHA-256 of the rest. */
static void test_ip_keys(void)
{
    char key[ATD_KEY_MAX];
    atd_ip v4 = {4, {192, 0, 2, 1}}, v6 = {6, {0x20, 0x01, 0x0d, 0xb8, 1, 2, 3, 4, 5, 6, 7, 8, 9,
                                              10, 11, 12}};
    size_t kl = atd_key_touch_ip(key, s("app"), &v4);
    static const unsigned char want4[] = {'I', 5, 4, 192, 0, 2, 1, 'a', 'p', 'p'};
    CHECK_EQ_INT(kl, sizeof want4);
    CHECK(memcmp(key, want4, sizeof want4) == 0);
    kl = atd_key_touch_ip(key, s("com.example.game"), &v6);
    CHECK_EQ_INT(kl, 3 + 16 + 16);
    CHECK(key[0] == 'I' && key[1] == 17 && key[2] == 6);
    CHECK(memcmp(key + 3, v6.addr, 16) == 0 && memcmp(key + 19, "com.example.game", 16) == 0);
    /* apps of every length around the limit: the layout, then the digest */
    char app[ATD_KEY_LONG + 8];
    memset(app, 'a', sizeof app);
    for (size_t n = ATD_KEY_LONG - 24; n < sizeof app; n++) {
        for (int fam = 0; fam < 2; fam++) {
            const atd_ip *ip = fam ? &v6 : &v4;
            size_t an = fam ? 16 : 4;
            kl = atd_key_touch_ip(key, (atd_str){app, n}, ip);
            if (n + an + 1 + 12 <= ATD_KEY_LONG) {
                CHECK_EQ_INT(kl, 3 + an + n);
                CHECK(key[0] == 'I' && key[1] == (char)(an + 1));
                CHECK(memcmp(key + 3, ip->addr, an) == 0 && memcmp(key + 3 + an, app, n) == 0);
            } else {
                CHECK_EQ_INT(kl, 33);
                CHECK_EQ_INT(key[0], 'i');
            }
        }
    }
}

int main(void)
{
    RUN(test_uuid_becomes_16_bytes);
    RUN(test_other_spellings_kept_as_text);
    RUN(test_ip_keys);
    return atd_test_done();
}
